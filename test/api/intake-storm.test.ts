import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { getIncident } from '../../db/incidents';
import type { IncidentState } from '../../domain/incident';
import { incidentState } from '../../workflows/messages';
import { alertmanagerBody, post } from '../helpers/intake';
import { eventually, startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  // Storms of 500-alert batches, as fast as the intake takes them: rate limits and the per-request
  // cap are raised out of the way (intake-batches.test.ts covers them).
  const fileConfig = parseFileConfig(
    { max_alerts_per_request: 500, default_rate_limit: { per_second: 100_000, burst: 100_000 } },
    {},
    'storm config',
  );
  stack = await startTestStack({ fileConfig });
});
afterAll(async () => {
  await stack?.close();
});

const auth = { authorization: `Bearer ${TEST_WEBHOOK_SECRET}` };

/** Runs `n` calls of `fn` with at most `width` in flight. */
async function parallel<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

async function workflowCount(id: string, expected: number): Promise<IncidentState> {
  const handle = stack.temporal.client.workflow.getHandle(`incident-${id}`);
  return eventually(
    async () => {
      const s = await handle.query(incidentState);
      return s.alertCount === expected ? s : undefined;
    },
    60_000,
    `workflow to count ${expected} alerts`,
  );
}

describe('storms and duplicates', () => {
  it('turns 50 concurrent deliveries of one alert into one incident', async () => {
    const body = {
      title: 'Agent exfiltrated a secret',
      severity: 'critical',
      source: 'dlp',
      dedup_key: 'dup-50',
    };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => post(`${stack.url}/v1/alerts`, body, auth)),
    );
    expect(results.every((r) => r.status === 202)).toBe(true);
    const ids = new Set(results.map((r) => r.json.incident_id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.json.deduplicated)).toHaveLength(1);
    await workflowCount([...ids][0], 50);
  });

  it('acceptance: 1,000 posts of one alert make one incident whose workflow counts 1,000', async () => {
    const body = {
      title: 'Agent looped on a paid API',
      severity: 'high',
      source: 'billing',
      dedup_key: 'storm-1000',
    };
    const results = await parallel(1000, 20, () => post(`${stack.url}/v1/alerts`, body, auth));
    expect(results.map((r) => r.status).filter((s) => s !== 202)).toEqual([]);
    const ids = new Set(results.map((r) => r.json.incident_id as string));
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    const row = (await getIncident(stack.db, id))!;
    expect(row.alertCount).toBe(1000);
    const state = await workflowCount(id, 1000);
    expect(state.latestAlertId).toBe(row.latestAlertId);
  });

  it('10,000 alerts for one key: one incident, count and latest in the workflow, bounded history', async () => {
    let first: string | undefined;
    for (let batch = 0; batch < 20; batch++) {
      const body = alertmanagerBody(Array.from({ length: 500 }, () => ({ fingerprint: 'storm-fp-10k' })));
      const res = await post(`${stack.url}/v1/alerts/alertmanager`, body, auth);
      expect(res.status).toBe(202);
      const ids = new Set(res.json.incidents.map((i: { incident_id: string }) => i.incident_id));
      expect(ids.size).toBe(1);
      first ??= res.json.incident_id;
      expect(res.json.incident_id).toBe(first);
    }
    const row = (await getIncident(stack.db, first!))!;
    expect(row.alertCount).toBe(10_000);
    const state = await workflowCount(first!, 10_000);
    expect(state.latestAlertId).toBe(row.latestAlertId);
    const history = await stack.temporal.client.workflow.getHandle(`incident-${first}`).fetchHistory();
    expect(history.events?.length ?? 0).toBeLessThan(200);
  });
});
