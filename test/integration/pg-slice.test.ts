/**
 * The end-to-end slice with Firebreak's store on PostgreSQL (a throwaway cluster on loopback):
 * an alert over HTTP opens an incident, its playbook waits for an approval given through the API,
 * the approved containment restricts a real PostgreSQL role, the post-mortem is stored and served
 * after the close, and the audit chain verifies. Then a drill through POST /v1/drills, scored and
 * kept out of live listings.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import type { LiveConnectors } from '../../connectors/types';
import { actionRunsOf } from '../../db/action-runs';
import { verifyAuditChain } from '../../db/audit';
import { dialectOf } from '../../db/client';
import { playbookStepsOf } from '../../db/incident-projection';
import { storedPostmortem } from '../../db/postmortems';
import type { PostmortemReport } from '../../domain/postmortem';
import type { AfterActionReport } from '../../drills/report';
import { loadPlaybookDir } from '../../playbooks/loader';
import { importAgents, liveFor } from '../connectors/fixtures';
import { pinYaml } from '../helpers/playbooks';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startPostgres, type LocalPostgres } from './services';

const ROLE = 'agent_slice';
const ROLE_PW = 'slice-role-pw-5b1e';
const aliceToken = 'alice-token-0123456789abcdef';
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

const playbook = pinYaml(`
id: pg-slice
version: 1
title: PostgreSQL slice
match:
  labels:
    scenario: pg-slice
phases:
  contain:
    - id: approve_restrict
      kind: approval
      prompt: Restrict the agent's database role?
      approvers: { users: [U_ALICE] }
      steps:
        - id: restrict
          kind: action
          action: access.restrict
          params: { agent_id: '\${{ incident.agent_id }}', resource: 'postgres:${ROLE}' }
  postmortem:
    - { id: review, kind: manual_task, task: Hold the review, assignee: U_ALICE }
`);

let cluster: LocalPostgres;
let admin: pg.Client;
let stack: TestStack;
let live: LiveConnectors | undefined;

beforeAll(async () => {
  cluster = await startPostgres();
  admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query(`create role ${ROLE} login password '${ROLE_PW}'`);
  stack = await startTestStack({
    postgresAdminUrl: cluster.adminUrl,
    playbooks: [playbook, ...loadPlaybookDir()],
    liveConnectors: () => (live ??= liveFor(stack, { pgAdminUrl: cluster.adminUrl })),
    fileConfig: parseFileConfig(
      {
        users: [
          {
            id: 'alice',
            name: 'Alice',
            slack_user_id: 'U_ALICE',
            roles: ['responder'],
            tokens: [{ token_sha256: sha(aliceToken), scopes: ['read', 'respond'] }],
          },
        ],
      },
      {},
      'test config',
    ),
  });
  await importAgents(stack, [
    {
      id: 'agent-slice',
      name: 'Reporting agent',
      owner: 'data@example.com',
      environment: 'prod',
      credentials: [{ id: 'agent-slice-db', provider: 'postgres', reference: ROLE }],
    },
  ]);
});
afterAll(async () => {
  await stack?.close();
  await admin?.end();
  await cluster?.stop();
});

const call = async (path: string, token = TEST_ADMIN_TOKEN, body?: unknown) => {
  const res = await fetch(`${stack.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: bearer(token),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

async function canLogin(): Promise<boolean> {
  const c = new pg.Client({ connectionString: cluster.urlFor(ROLE, ROLE_PW) });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

describe('end-to-end slice on PostgreSQL', () => {
  it('alert → incident → playbook → approval → containment → post-mortem', async () => {
    expect(dialectOf(stack.db)).toBe('postgres');
    expect(await canLogin()).toBe(true);
    const res = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: bearer(TEST_WEBHOOK_SECRET),
      body: JSON.stringify({
        title: 'Reporting agent queried payroll tables',
        severity: 'high',
        source: 'siem',
        dedup_key: 'pg-slice-1',
        agent_id: 'agent-slice',
        labels: { scenario: 'pg-slice' },
      }),
    });
    expect(res.status).toBe(202);
    const { incident_id: id } = (await res.json()) as { incident_id: string };

    const waiting = (step: string) =>
      eventually(
        async () =>
          (await playbookStepsOf(stack.db, id)).some((s) => s.stepId === step && s.status === 'waiting') ||
          undefined,
        30_000,
        `step ${step} waiting`,
      );
    await waiting('approve_restrict');
    expect(await canLogin()).toBe(true);
    const approved = await call(`/v1/incidents/${id}/approvals/approve_restrict`, aliceToken, {
      decision: 'approve',
      decision_id: 'slice-approve',
    });
    expect(approved.status).toBe(200);
    await waiting('review');
    expect(await canLogin()).toBe(false);
    const runs = await actionRunsOf(stack.db, id);
    expect(runs.filter((r) => r.stepId === 'restrict')).toEqual([
      expect.objectContaining({ action: 'access.restrict', status: 'succeeded' }),
    ]);
    const stored = await eventually(() => storedPostmortem(stack.db, id));
    expect(stored.generatedBy).toBe('playbook:pg-slice');

    expect(
      (await call(`/v1/incidents/${id}/tasks/review/done`, aliceToken, { decision_id: 'slice-review' }))
        .status,
    ).toBe(200);
    expect((await call(`/v1/incidents/${id}/close`, TEST_ADMIN_TOKEN, { reason: 'contained' })).status).toBe(
      200,
    );
    await eventually(async () => (await call(`/v1/incidents/${id}`)).body.status === 'closed' || undefined);
    const report = (await call(`/v1/incidents/${id}/postmortem.json`)).body as PostmortemReport;
    expect(report.incident).toMatchObject({ id, mode: 'live', status: 'closed' });
    expect(report.approvals).toEqual([
      expect.objectContaining({ step_id: 'approve_restrict', decision: 'approve', actor: 'U_ALICE' }),
    ]);
    expect(JSON.stringify(report)).toContain('access.restrict');
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });

  it('runs a drill through POST /v1/drills, scored, and kept out of live listings', async () => {
    const scenario = {
      id: 'pg-drill',
      title: 'Prompt tampering drill',
      playbook: 'agent-config-tampering',
      alerts: [{ title: 'Prompt changed', severity: 'high', agent_id: 'ops-agent' }],
      expectations: [{ id: 'done', type: 'outcome', outcome: 'completed' }],
    };
    const res = await call('/v1/drills', TEST_ADMIN_TOKEN, { scenario, auto: true, speed: 120 });
    expect(res.status).toBe(202);
    const id = res.body.incident_id as string;
    const report = await eventually(
      async () => {
        const r = (await call(`/v1/drills/${id}/report`)).body as AfterActionReport;
        return r.status !== 'running' ? r : undefined;
      },
      60_000,
      'the drill to finish',
    );
    expect(report).toMatchObject({ passed: true, mode: 'drill', status: 'passed' });
    const ids = async (q: string) =>
      ((await call(`/v1/incidents${q}`)).body.incidents as { id: string }[]).map((i) => i.id);
    expect(await ids('?mode=live')).not.toContain(id);
    expect(await ids('?mode=drill')).toContain(id);
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });
});
