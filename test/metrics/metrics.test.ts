/**
 * GET /metrics over a real listening server: the exposition parses, counters and the open gauge
 * match the DB, histogram buckets match durations scripted with fixed timestamps, drills carry
 * mode="drill" and leave every mode="live" series unchanged, and the endpoint can require a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { IntakeMetrics } from '../../api/intake-metrics';
import { renderMetrics } from '../../api/metrics';
import { loadConfig } from '../../app/config';
import { openDb, type Db } from '../../db/client';
import { insertIncident } from '../../db/incidents';
import { post } from '../helpers/intake';
import { families, histogram, samples, valueOf } from '../helpers/prometheus';
import { scriptIncident } from '../helpers/scripted-incident';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const OPENED = '2026-03-01T10:00:00.000Z';

async function openIncident(db: Db, id: string, mode: 'live' | 'drill', phase: string): Promise<void> {
  await insertIncident(db, {
    id,
    key: `test:${id}`,
    seq: 1,
    workflowId: `incident-${id}`,
    source: 'test',
    title: 'Still open',
    severity: 'high',
    status: 'open',
    mode,
    phase,
    firstAlertAt: OPENED,
    lastAlertAt: OPENED,
    openedAt: OPENED,
    updatedAt: OPENED,
  });
}

async function seedLive(db: Db): Promise<void> {
  await scriptIncident(db, { id: 'inc-live', mode: 'live', openedAt: OPENED });
  await openIncident(db, 'inc-live-open', 'live', 'contain');
}

async function seedDrills(db: Db): Promise<void> {
  await scriptIncident(db, { id: 'inc-drill', mode: 'drill', openedAt: OPENED, scale: 2 });
  await openIncident(db, 'inc-drill-open', 'drill', 'assess');
}

let stack: TestStack;
let text: string;
beforeAll(async () => {
  const intake = new IntakeMetrics();
  intake.count(intake.rateLimited, 'alertmanager', 2);
  stack = await startTestStack({ withWorker: false, metrics: intake });
  await seedLive(stack.db);
  await seedDrills(stack.db);
  const res = await fetch(`${stack.url}/metrics`, { headers: bearer(TEST_ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  text = await res.text();
});
afterAll(async () => {
  await stack?.close();
});

describe('GET /metrics', () => {
  it('is a valid exposition with the expected families and types', () => {
    const f = families(text);
    expect(f.get('firebreak_incidents_opened_total')?.type).toBe('COUNTER');
    expect(f.get('firebreak_incidents_open')?.type).toBe('GAUGE');
    expect(f.get('firebreak_approval_wait_seconds')?.type).toBe('HISTOGRAM');
    expect(f.get('firebreak_incident_response_seconds')?.type).toBe('HISTOGRAM');
    expect(f.get('firebreak_step_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(f.get('firebreak_alerts_received_total')?.metrics).toContainEqual({
      labels: { mode: 'live', source: 'test' },
      value: '3',
    });
  });

  it('the strict reader rejects a malformed exposition', () => {
    expect(() => samples('# TYPE a counter\na{mode="live" 1\n')).toThrow(/not a sample line|bad labels/);
    expect(() => samples('b_total 1\n')).toThrow(/without a # TYPE/);
    expect(() => samples('# TYPE c gauge\nc one\n')).toThrow(/not a sample line|bad value/);
  });

  it('counts incidents, alerts, dedups, connector failures and open incidents by phase from the DB', () => {
    expect(valueOf(text, 'firebreak_incidents_opened_total', { mode: 'live', severity: 'high' })).toBe(2);
    expect(valueOf(text, 'firebreak_incidents_closed_total', { mode: 'live', severity: 'high' })).toBe(1);
    expect(valueOf(text, 'firebreak_incidents_open', { mode: 'live', phase: 'contain' })).toBe(1);
    expect(valueOf(text, 'firebreak_incidents_open', { mode: 'live', phase: 'assess' })).toBeUndefined();
    expect(valueOf(text, 'firebreak_incidents_open', { mode: 'drill', phase: 'assess' })).toBe(1);
    expect(valueOf(text, 'firebreak_alerts_deduplicated_total', { mode: 'live', source: 'test' })).toBe(2);
    expect(
      valueOf(text, 'firebreak_connector_failures_total', {
        mode: 'live',
        action: 'credentials.revoke',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      valueOf(text, 'firebreak_intake_refused_total', { reason: 'rate_limited', source: 'alertmanager' }),
    ).toBe(2);
  });

  it('puts scripted durations in the right histogram buckets', () => {
    // Live approval waited 180 s; the drill (scale 2) 360 s.
    expect(
      histogram(text, 'firebreak_approval_wait_seconds', { mode: 'live', decision: 'approve' }),
    ).toMatchObject({
      buckets: { '60': 0, '300': 1, '+Inf': 1 },
      count: 1,
      sum: 180,
    });
    expect(
      histogram(text, 'firebreak_approval_wait_seconds', { mode: 'drill', decision: 'approve' }),
    ).toMatchObject({
      buckets: { '300': 0, '900': 1 },
      sum: 360,
    });
    const stage = (s: string) =>
      histogram(text, 'firebreak_incident_response_seconds', { mode: 'live', severity: 'high', stage: s });
    expect(stage('acknowledge')).toMatchObject({ buckets: { '60': 0, '300': 1 }, sum: 240 });
    expect(stage('contain')).toMatchObject({ buckets: { '60': 0, '300': 1 }, sum: 300 });
    expect(stage('remediate')).toMatchObject({ buckets: { '1800': 0, '3600': 1 }, sum: 3600 });
    expect(stage('close')).toMatchObject({ buckets: { '3600': 0, '7200': 1 }, sum: 7200, count: 1 });
    expect(
      histogram(text, 'firebreak_step_duration_seconds', {
        mode: 'live',
        kind: 'action',
        status: 'succeeded',
      }),
    ).toMatchObject({ buckets: { '15': 0, '60': 1 }, sum: 30 });
    expect(
      histogram(text, 'firebreak_action_duration_seconds', {
        mode: 'live',
        action: 'agent.disable',
        status: 'succeeded',
      }),
    ).toMatchObject({ buckets: { '15': 0, '60': 1 }, sum: 30 });
  });

  it('times every intake group commit and exposes the process metrics (CPU, memory, event-loop lag)', async () => {
    const before = histogram(text, 'firebreak_intake_commit_requests', {});
    expect(before.count ?? 0).toBe(0);
    const posted = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(
          `${stack.url}/v1/alerts`,
          { title: `Commit timing ${i}`, severity: 'low', source: 'metrics-test', dedup_key: `commit-${i}` },
          bearer(TEST_WEBHOOK_SECRET),
        ),
      ),
    );
    expect(posted.map((p) => p.status)).toEqual(Array(12).fill(202));
    const after = await (await fetch(`${stack.url}/metrics`, { headers: bearer(TEST_ADMIN_TOKEN) })).text();
    const requests = histogram(after, 'firebreak_intake_commit_requests', {});
    const seconds = histogram(after, 'firebreak_intake_commit_seconds', {});
    // Every request is in exactly one commit; concurrent ones may share it.
    expect(requests.sum).toBe(12);
    expect(requests.count).toBeGreaterThanOrEqual(1);
    expect(requests.count).toBeLessThanOrEqual(12);
    expect(seconds.count).toBe(requests.count);
    expect(seconds.sum).toBeGreaterThan(0);
    expect(seconds.buckets['+Inf']).toBe(requests.count);
    const f = families(after);
    expect(f.get('nodejs_eventloop_lag_p99_seconds')?.type).toBe('GAUGE');
    expect(f.get('process_cpu_seconds_total')?.type).toBe('COUNTER');
  });

  it('drills never change a mode="live" series', async () => {
    const liveOnly = openDb(':memory:');
    await seedLive(liveOnly);
    const both = openDb(':memory:');
    await seedLive(both);
    await seedDrills(both);
    const live = (t: string) => t.split('\n').filter((l) => l.includes('mode="live"'));
    const a = (await renderMetrics(liveOnly)).body;
    const b = (await renderMetrics(both)).body;
    expect(live(a).length).toBeGreaterThan(20);
    expect(live(b)).toEqual(live(a));
    expect(b.split('\n').some((l) => l.includes('mode="drill"'))).toBe(true);
  });

  it('requires a read token by default; FIREBREAK_METRICS_AUTH=none opens it', async () => {
    const log = (await import('pino')).pino({ level: 'silent' });
    expect(loadConfig({ DATA_DIR: stack.dataDir }).metricsAuth).toBe('read');
    for (const app of [createApp({ ...stack, log }), createApp({ ...stack, log, metricsAuth: 'read' })]) {
      const refused = await app.request('/metrics');
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('firebreak_');
      const ok = await app.request('/metrics', { headers: bearer(TEST_ADMIN_TOKEN) });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('firebreak_');
    }
    const open = createApp({
      ...stack,
      log,
      metricsAuth: loadConfig({ DATA_DIR: stack.dataDir, FIREBREAK_METRICS_AUTH: 'none' }).metricsAuth,
    });
    expect((await open.request('/metrics')).status).toBe(200);
  });
});
