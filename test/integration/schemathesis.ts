/**
 * Schemathesis (PyPI), pinned, in a virtualenv the test creates on first use under `.tmp/` (kept
 * between runs; a different pin gets a venv of its own). A missing Python, venv module or package
 * index fails the test saying what to install; it never skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../temporal/cli-binary';

export const SCHEMATHESIS_VERSION = '4.32.5';

function python(): string {
  for (const bin of ['python3', 'python']) {
    const r = spawnSync(bin, ['-c', 'import venv, ensurepip, sys; print(sys.version_info >= (3, 10))'], {
      encoding: 'utf8',
    });
    if (r.status === 0 && r.stdout.trim() === 'True') return bin;
  }
  throw new Error(
    `schemathesis ${SCHEMATHESIS_VERSION} needs Python >= 3.10 with the venv module: ` +
      '`apt-get install -y python3 python3-venv` (scripts/provision-test-services.sh does it)',
  );
}

/** The path of the pinned `schemathesis` executable, installing it into its venv when missing. */
export function ensureSchemathesis(): string {
  const venv = path.join(projectRoot, '.tmp', `venv-schemathesis-${SCHEMATHESIS_VERSION}`);
  const bin = path.join(venv, 'bin', 'schemathesis');
  const installed = () =>
    fs.existsSync(bin) &&
    spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.includes(`version ${SCHEMATHESIS_VERSION}`);
  if (installed()) return bin;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  execFileSync(python(), ['-m', 'venv', venv], { stdio: 'pipe' });
  const pip = spawnSync(
    path.join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0 || !installed()) {
    fs.rmSync(venv, { recursive: true, force: true });
    throw new Error(
      `could not install schemathesis==${SCHEMATHESIS_VERSION} from PyPI into ${venv} ` +
        `(pip exited ${pip.status}): ${(pip.stderr || pip.stdout).slice(-1500)}`,
    );
  }
  return bin;
}
