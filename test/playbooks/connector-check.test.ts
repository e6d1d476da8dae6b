/**
 * The playbook connector check (`playbook lint --connectors`, start-up warning) and the shape of
 * the built-in playbooks' containment: which containment steps cannot run with a given set of
 * connectors, located by line; and that every built-in re-enables only through its own approval,
 * after the rotation it depends on succeeded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { warnUncoveredContainment } from '../../app/connector-check';
import { connectorCoverage } from '../../connectors/coverage';
import { upsertAgents } from '../../db/agents';
import { closeDb, openDb } from '../../db/client';
import type { ConnectorCoverage } from '../../domain/connector-coverage';
import type { Step } from '../../domain/playbook';
import { checkConnectors } from '../../playbooks/connector-check';
import { BUILTIN_PLAYBOOK_DIR, loadPlaybookDir } from '../../playbooks/loader';
import { childLists } from '../../playbooks/step-tree';

const none: ConnectorCoverage = { credentialProviders: [], accessProviders: [] };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const playbook = `id: t
version: 1
title: T
inputs:
  role: { default: 'postgres:reader' }
phases:
  contain:
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
    - id: gate
      kind: approval
      prompt: go?
      approvers: { users: [U1] }
      steps:
        - { id: restrict_db, kind: action, action: access.restrict, params: { agent_id: a1, resource: '\${{ inputs.role }}' } }
        - { id: restrict_http, kind: action, action: access.restrict, params: { agent_id: a1, resource: 'http:billing:a1' } }
    - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1, provider: aws_iam } }
`;

describe('checkConnectors', () => {
  it('names each containment step that cannot run, with its line, and never the kill switch', () => {
    const problems = checkConnectors(playbook, none);
    expect(problems.map((p) => [p.line, p.message.split(':')[0]])).toEqual([
      [14, 'containment step restrict_db (access.restrict) cannot run here'],
      [15, 'containment step restrict_http (access.restrict) cannot run here'],
      [16, 'containment step revoke (credentials.revoke) cannot run here'],
    ]);
    expect(problems[0]!.message).toContain('no postgres connector for postgres:reader');
    expect(problems[1]!.message).toContain('connectors.http_systems entry billing');
    expect(problems[2]!.message).toContain('aws_iam: configure FIREBREAK_AWS_ENDPOINT');
  });

  it('is silent for what the configured connectors cover', () => {
    const all = connectorCoverage({
      pgAdminUrl: 'postgres://x@127.0.0.1/x',
      aws: { endpoint: undefined, region: 'us-east-1' },
      statusBaseUrl: 'http://127.0.0.1:1',
      httpSystems: [{ name: 'billing' } as never],
    });
    expect(checkConnectors(playbook, all)).toEqual([]);
  });

  it('uses the inventory when known: the providers agents hold, and an empty inventory', () => {
    const held = { ...none, inventoryProviders: { postgres: ['agent-a'] } };
    const revoke = playbook.replace(', provider: aws_iam', '');
    expect(checkConnectors(revoke, held).at(-1)!.message).toContain('postgres held by agent-a');
    const empty = { ...none, inventoryProviders: {} };
    expect(checkConnectors(revoke, empty).at(-1)!.message).toContain('no agent in the inventory');
  });
});

describe('start-up warning', () => {
  it('logs one warning per built-in containment step the configured connectors cannot run', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cc-'));
    dirs.push(dataDir);
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const db = openDb(path.join(dataDir, 'firebreak.db'));
    try {
      const at = new Date().toISOString();
      await upsertAgents(
        db,
        [
          {
            id: 'agent-x',
            name: 'x',
            owner: 'o',
            team: null,
            environment: 'prod',
            runtimeRef: null,
            status: 'enabled',
            tools: [],
            permissions: [],
            credentials: [
              {
                id: 'cx',
                agentId: 'agent-x',
                provider: 'aws_iam',
                reference: 'x/AKIA',
                scopes: [],
                status: 'active',
                createdAt: at,
                lastUsedAt: null,
              },
            ],
          },
        ],
        at,
      );
      const lines: string[] = [];
      const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
      const warnings = await warnUncoveredContainment(config, db, log);
      expect(lines).toHaveLength(warnings.length);
      const files = new Set(warnings.map((w) => path.basename(w.split(':')[0]!)));
      // The anomalous-behavior playbook restricts nothing unless given a resource of the agent's
      // own, and its disable always runs (the kill switch needs no connector): nothing to warn of.
      expect(files).toEqual(
        new Set([
          'agent-api-unauthorized-access.yaml',
          'agent-config-tampering.yaml',
          'agent-credential-leak.yaml',
        ]),
      );
      expect(warnings.some((w) => /revoke_credential .*aws_iam held by agent-x/.test(w))).toBe(true);
      expect(warnings.some((w) => /agent\.disable/.test(w))).toBe(false);
    } finally {
      await closeDb(db);
    }
  });
});

describe('built-in playbooks', () => {
  const all = (steps: Step[]): Step[] => steps.flatMap((s) => [s, ...childLists(s).flatMap(all)]);
  // Triage contains nothing, so it has nothing to re-enable.
  const containing = loadPlaybookDir(BUILTIN_PLAYBOOK_DIR).filter((p) => p.id !== 'triage');
  it('the check covers every built-in but triage', () => {
    expect(containing.map((p) => p.id).sort()).toEqual([
      'agent-anomalous-behavior',
      'agent-api-unauthorized-access',
      'agent-config-tampering',
      'agent-credential-leak',
    ]);
  });
  it.each(containing.map((p) => [p.id, p] as const))(
    '%s re-enables only in its own approval, after a successful rotation',
    (_id, p) => {
      const steps = Object.values(p.definition.phases).flatMap((s) => all(s ?? []));
      const gates = steps.filter(
        (s) =>
          s.kind === 'approval' &&
          (s.steps ?? []).some((x) => x.kind === 'action' && x.action === 'agent.enable'),
      );
      expect(gates).toHaveLength(1);
      const gate = gates[0]! as Extract<Step, { kind: 'approval' }>;
      expect(gate.steps).toHaveLength(1);
      expect(gate.on_timeout).toBe('reject');
      expect(gate.when).toMatch(/^steps\.rotate_credentials?\.status == 'succeeded'$/);
      const enables = steps.filter((s) => s.kind === 'action' && s.action === 'agent.enable');
      expect(enables).toHaveLength(1);
    },
  );
});
