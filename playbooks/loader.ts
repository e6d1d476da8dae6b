/**
 * Loads playbooks from YAML outside workflow code: parses, validates with the schema and the
 * linter (any problem refuses the playbook), and pins the result with the sha256 of its source,
 * ready to be put into an incident workflow's start input. The built-in playbooks live next to
 * this module.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PinnedPlaybook } from '../domain/playbook';
import { lintSource, type Problem } from './lint';

export const BUILTIN_PLAYBOOK_DIR = path.dirname(fileURLToPath(import.meta.url));

export class PlaybookError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `playbook ${file} is invalid (run \`npm run cli -- playbook lint ${file}\`):\n` +
        problems.map((p) => `${file}:${p.line}:${p.col} ${p.message}`).join('\n'),
    );
  }
}

export function sha256(source: string): string {
  return crypto.createHash('sha256').update(source).digest('hex');
}

/** Validates and pins one playbook source; throws PlaybookError listing every problem. */
export function pinPlaybook(source: string, file = '<playbook>'): PinnedPlaybook {
  const { problems, definition } = lintSource(source);
  if (problems.length > 0 || !definition) throw new PlaybookError(file, problems);
  return { id: definition.id, version: definition.version, hash: sha256(source), definition };
}

export function loadPlaybookFile(file: string): PinnedPlaybook {
  return pinPlaybook(fs.readFileSync(file, 'utf8'), file);
}

/** Every `*.yaml` playbook in `dir` (default: the built-ins), sorted by file name. */
export function loadPlaybookDir(dir = BUILTIN_PLAYBOOK_DIR): PinnedPlaybook[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => loadPlaybookFile(path.join(dir, f)));
}
