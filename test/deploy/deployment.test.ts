import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../app/config';

// No Docker engine or cluster runs here, so the deployment files are checked for what can be
// checked: the manifest parses into the documented objects, the processes it and the image run
// are the package scripts' commands, its variables are documented and load, and the probes ask
// /healthz.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const scriptArgv = (name: string) => scripts[name]!.split(/\s+/);

interface Container {
  name: string;
  command: string[];
  envFrom?: { secretRef: { name: string } }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  ports?: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  stringData?: Record<string, string>;
  spec?: { replicas?: number; template: { spec: { containers: Container[]; initContainers?: Container[] } } };
}

const docs = parseAllDocuments(read('deploy/kubernetes.yaml')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as K8sObject;
});
const byName = (kind: string, name: string) => {
  const o = docs.find((d) => d.kind === kind && d.metadata.name === name);
  expect(o, `${kind} ${name} in deploy/kubernetes.yaml`).toBeDefined();
  return o!;
};
const container = (deployment: string) => byName('Deployment', deployment).spec!.template.spec.containers[0]!;

/** The Dockerfile's instructions, continuation lines joined. */
function dockerfile(): { op: string; args: string }[] {
  return read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l.trim())!;
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
}

describe('deploy/kubernetes.yaml', () => {
  it('holds the env Secret, an API and a worker Deployment with several replicas, and a Service', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'Deployment/firebreak-api',
      'Deployment/firebreak-worker',
      'Secret/firebreak-env',
      'Service/firebreak-api',
    ]);
    expect(byName('Deployment', 'firebreak-api').spec!.replicas).toBeGreaterThan(1);
    expect(byName('Deployment', 'firebreak-worker').spec!.replicas).toBeGreaterThan(1);
  });

  it('runs the commands of `npm run api` and `npm run worker`', () => {
    expect(['node', ...container('firebreak-api').command.slice(1)]).toEqual(scriptArgv('api'));
    expect(['node', ...container('firebreak-worker').command.slice(1)]).toEqual(scriptArgv('worker'));
  });

  it('asks /healthz on the API port for readiness and liveness', () => {
    const api = container('firebreak-api');
    expect(api.ports).toEqual([{ name: 'http', containerPort: 3000 }]);
    expect(api.readinessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(api.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });

  it('passes only documented variables, and they load as a configuration', () => {
    const env = byName('Secret', 'firebreak-env').stringData!;
    const readme = read('README.md');
    const table = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const name of Object.keys(env))
      expect(
        table.some((row) => row.split('|')[1]!.includes(`\`${name}\``)),
        `${name} in the README's configuration table`,
      ).toBe(true);
    for (const d of ['firebreak-api', 'firebreak-worker'])
      expect(container(d).envFrom).toEqual([{ secretRef: { name: 'firebreak-env' } }]);
    const image = Object.fromEntries(
      dockerfile()
        .filter((i) => i.op === 'ENV')
        .flatMap((i) => i.args.split(/\s+/).map((kv) => kv.split('=') as [string, string])),
    );
    const config = loadConfig({ ...image, ...env });
    expect(config.temporal.address).toBe(env.TEMPORAL_ADDRESS);
    expect(config.evidence).toMatchObject({ kind: 's3', bucket: 'firebreak-evidence', prefix: 'prod/' });
    // The keys are mounted where the image says they are.
    for (const d of ['firebreak-api', 'firebreak-worker']) {
      expect(container(d).volumeMounts).toContainEqual({
        name: 'keys',
        mountPath: image.FIREBREAK_KEY_DIR,
        readOnly: true,
      });
    }
  });
});

describe('Dockerfile', () => {
  it("runs the API by the script's command, and builds with the README's commands", () => {
    const steps = dockerfile();
    const cmd = steps.filter((s) => s.op === 'CMD').at(-1)!;
    expect(JSON.parse(cmd.args)).toEqual(scriptArgv('api'));
    const runs = steps.filter((s) => s.op === 'RUN' && s.args.startsWith('npm ')).map((s) => s.args);
    expect(runs).toEqual([
      'npm install --no-audit --no-fund',
      'npm run typecheck',
      'npm prune --omit=dev --no-audit --no-fund',
    ]);
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Deployment: a container image and Kubernetes'));
    expect(section).toContain('docker build -t firebreak .');
    for (const r of runs) expect(section).toContain(r.replace(/ --no-audit --no-fund$/, ''));
    for (const s of ['api', 'worker']) expect(section).toContain(scripts[s]!.replace(/^node /, 'node '));
  });
});
