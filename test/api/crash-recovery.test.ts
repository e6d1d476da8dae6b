import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../db/client';
import { undispatchedAlertCount } from '../../db/incident-alerts';
import { countIncidents, getIncident, listIncidents } from '../../db/incidents';
import { incidentState } from '../../workflows/messages';
import { killHard, startChildApi, tcpProxy, type ChildApi } from '../helpers/child-api';
import { post, signatureHeader } from '../helpers/intake';
import {
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const CRASHY_SECRET = 'crashy-source-secret-0123456789';
let child: ChildApi | undefined;
let stack: TestStack | undefined;
afterAll(async () => {
  if (child) await killHard(child.child);
  await stack?.close();
});

describe('a crash between the 202 and the dispatch', () => {
  it('loses nothing: a restarted API replays stored alerts and the workflows count every one', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-crash-'));
    const configFile = path.join(dataDir, 'firebreak.yaml');
    fs.writeFileSync(configFile, 'sources:\n  - id: crashy\n    secret_env: CRASHY_SECRET\n');
    const proxy = await tcpProxy(inject('temporalAddress'));
    child = await startChildApi({
      DATA_DIR: dataDir,
      FIREBREAK_CONFIG: configFile,
      CRASHY_SECRET,
      FIREBREAK_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      FIREBREAK_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TASK_QUEUE: `crash-${path.basename(dataDir)}`,
      LOG_LEVEL: 'silent',
    });
    await proxy.cut(); // Temporal is unreachable for the child from here on: dispatch cannot happen

    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const key = i < 25 ? 'crash-a' : 'crash-b';
      const raw = JSON.stringify({
        title: `Agent ${key} misbehaved`,
        severity: 'high',
        source: 'edr',
        dedup_key: key,
        labels: { delivery: String(i) }, // each delivery is signed anew: a repeated signature is a replay
      });
      const res = await post(`${child.url}/v1/alerts`, raw, {
        'x-firebreak-signature': signatureHeader(CRASHY_SECRET, raw),
      });
      expect(res.status).toBe(202);
      ids.add(res.json.incident_id);
    }
    await killHard(child.child);
    expect(ids.size).toBe(2);

    const db = openDb(path.join(dataDir, 'firebreak.db'));
    expect(await undispatchedAlertCount(db)).toBe(30);
    const all = await listIncidents(db, { limit: await countIncidents(db) });
    expect(all.every((i) => i.startedAt === null && i.source === 'crashy')).toBe(true);
    db.$client.close();

    stack = await startTestStack({ dataDir });
    for (const [id, n] of [...ids].map((id, i) => [id, i === 0 ? 25 : 5] as const)) {
      const state = await eventually(
        async () => {
          const s = await stack!.temporal.client.workflow.getHandle(`incident-${id}`).query(incidentState);
          return s.alertCount === n ? s : undefined;
        },
        30_000,
        `incident ${id} to count ${n} alerts`,
      );
      expect(state.status).toBe('open');
      // Started by the restarted process (its task queue), not by the killed child.
      const desc = await stack.temporal.client.workflow.getHandle(`incident-${id}`).describe();
      expect(desc.taskQueue).toBe(stack.temporal.taskQueue);
      const row = await eventually(() => getIncident(stack!.db, id));
      expect(row.alertCount).toBe(n);
    }
    await stack.outbox.drained();
    expect(await stack.outbox.pendingCount()).toBe(0);
  });
});
