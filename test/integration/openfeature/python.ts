/**
 * The Python agent runtime of the OFREP tests: test/integration/openfeature/ofrep-runtime.py run
 * with the venv that scripts/provision-test-services.sh creates (pinned openfeature-sdk,
 * openfeature-provider-ofrep, cryptography). A missing venv or package fails the test saying what
 * to run; it never skips.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
export const OPENFEATURE_VENV = path.join(ROOT, '.test-services', 'openfeature-venv');
const PINNED = ['openfeature-sdk==0.10.0', 'openfeature-provider-ofrep==0.3.0', 'cryptography==50.0.2'];
const SCRIPT = path.join(import.meta.dirname, 'ofrep-runtime.py');

/** The venv's python, after checking it holds the pinned packages. */
export function openFeaturePython(): string {
  const python = path.join(OPENFEATURE_VENV, 'bin', 'python');
  const install = `run scripts/provision-test-services.sh (or: python3 -m venv ${OPENFEATURE_VENV} && ${OPENFEATURE_VENV}/bin/pip install ${PINNED.join(' ')})`;
  if (!fs.existsSync(python))
    throw new Error(`no Python OpenFeature venv at ${OPENFEATURE_VENV}: ${install}`);
  const check =
    'import sys\nfrom importlib.metadata import version\n' +
    'bad=[p for p in sys.argv[1:] if version(p.split("==")[0])!=p.split("==")[1]]\n' +
    'print(" ".join(bad))';
  let bad: string;
  try {
    bad = execFileSync(python, ['-c', check, ...PINNED], { encoding: 'utf8' }).trim();
  } catch (err) {
    throw new Error(`the OpenFeature venv cannot list its packages (${(err as Error).message}): ${install}`, {
      cause: err,
    });
  }
  if (bad) throw new Error(`the OpenFeature venv lacks ${bad}: ${install}`);
  return python;
}

export interface PythonEvaluation {
  value: boolean;
  error_code: string | null;
  error_message: string | null;
  metadata: Record<string, string | number | boolean>;
}

/** Evaluates each flag as the Python runtime does, in one process; one result per evaluation. */
export async function evaluateInPython(
  python: string,
  req: {
    base_url: string;
    token: string;
    jwks: unknown;
    evaluations: { flag: string; context: Record<string, string> }[];
  },
): Promise<PythonEvaluation[]> {
  const { stdout } = await promisify(execFile)(python, [SCRIPT, JSON.stringify(req)], { timeout: 60_000 });
  return JSON.parse(stdout) as PythonEvaluation[];
}
