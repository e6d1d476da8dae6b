import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../temporal/cli-binary';

const run = promisify(execFile);
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const cli = path.join(projectRoot, 'cli', 'index.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function firebreak(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [cli, ...args], { cwd: projectRoot });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const builtin = path.join(projectRoot, 'playbooks', 'agent-credential-leak.yaml');

describe('npm run cli -- playbook', () => {
  it('lint exits 0 for valid playbooks', async () => {
    const r = await firebreak(
      'playbook',
      'lint',
      builtin,
      path.join(projectRoot, 'playbooks', 'agent-config-tampering.yaml'),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('lint exits non-zero and prints file:line:col message for every problem', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      [
        'id: bad',
        'version: 1',
        'title: Bad',
        'phases:',
        '  contain:',
        '    - id: gate',
        '      kind: approval',
        '      prompt: ok?',
        '      approvers: {}',
        '    - id: gate',
        '      kind: action',
        '      action: agent.explode',
        '',
      ].join('\n'),
    );
    const r = await firebreak('playbook', 'lint', bad);
    expect(r.code).not.toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      `${bad}:9:18 approval gate has no approvers (name users, groups or roles)`,
      `${bad}:10:11 duplicate step id gate (first defined on line 6)`,
      expect.stringMatching(
        new RegExp(`^${bad.replace(/[.]/g, '\\.')}:12:15 unknown action agent\\.explode`),
      ),
    ]);
  });

  it('show prints phases, steps and gates', async () => {
    const r = await firebreak('playbook', 'show', builtin);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('agent-credential-leak v2: Leaked or compromised agent credential');
    expect(r.stdout).toMatch(/contain:\n {2}- auto_contain: if incident\.severity in \['critical', 'high'\]/);
    expect(r.stdout).toMatch(
      /approve_rotate: GATE 1 approval\(s\) from group S0SECLEADS, role incident_commander/,
    );
    expect(r.stdout).toContain('disable_agent: action agent.disable (must verify) [undo: agent.enable]');
  });

  it('graph prints a Mermaid flowchart with a subgraph per phase', async () => {
    const r = await firebreak('playbook', 'graph', builtin);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('flowchart TD');
    expect(lines.filter((l) => l.trim().startsWith('subgraph'))).toHaveLength(5);
    expect(r.stdout).toContain('s_auto_contain -->|yes| s_disable_agent');
    expect(r.stdout).toContain('s_approve_rotate -->|rejected| s_approve_reenable');
    expect(r.stdout).toContain('s_approve_reenable -->|approved| s_reenable_agent');
  });

  it('lint --connectors names each containment step the configured connectors cannot run', async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
    // The anomalous-behavior playbook, given a data resource of the agent's own to restrict.
    const anomalous = path.join(dir, 'agent-anomalous-behavior.yaml');
    const original = fs.readFileSync(
      path.join(projectRoot, 'playbooks', 'agent-anomalous-behavior.yaml'),
      'utf8',
    );
    expect(original).toContain("    default: ''");
    fs.writeFileSync(anomalous, original.replace("    default: ''", '    default: postgres:agent_7_data'));
    const lintWith = async (env: Record<string, string>) => {
      try {
        const out = await run(tsx, [cli, 'playbook', 'lint', '--connectors', anomalous, builtin], {
          cwd: projectRoot,
          env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
        });
        return { code: 0, stdout: out.stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string };
        return { code: e.code, stdout: e.stdout };
      }
    };
    const plain = await lintWith({});
    expect(plain.code).toBe(1);
    const lines = plain.stdout.trim().split('\n');
    const restrictLine = fs
      .readFileSync(anomalous, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('action: access.restrict'));
    expect(lines).toContain(
      `${anomalous}:${restrictLine + 1}:15 containment step restrict_data (access.restrict) cannot run here: ` +
        'no postgres connector for postgres:agent_7_data (configure FIREBREAK_PG_ADMIN_URL or connectors.postgres.admin_url)',
    );
    // The inventory in DATA_DIR is empty: no revoke can find a credential.
    expect(
      lines.some(
        (l) => l.startsWith(`${builtin}:`) && /revoke_credential .*no agent in the inventory/.test(l),
      ),
    ).toBe(true);
    // With PostgreSQL configured, the restriction can run; the revoke still cannot.
    const withPg = await lintWith({ FIREBREAK_PG_ADMIN_URL: 'postgres://firebreak@127.0.0.1:1/x' });
    expect(withPg.stdout).not.toContain('restrict_data');
    expect(withPg.stdout).toContain('revoke_credential');
  });
});
