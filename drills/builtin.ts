/**
 * The built-in drill scenarios shipped beside this module (drills/*.yaml), by scenario id, with
 * their YAML text: the console lists them and starts one by id, through the same drill route
 * logic as `POST /v1/drills` with `scenario_yaml`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from './lint';
import type { DrillScenario } from './schema';

export interface BuiltinDrill {
  file: string;
  source: string;
  scenario: DrillScenario;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function builtinDrills(): BuiltinDrill[] {
  return fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = path.join(here, f);
      return { file, source: fs.readFileSync(file, 'utf8'), scenario: loadScenarioFile(file) };
    });
}
