/**
 * Records workflow histories from real runs for the replay tests (test/histories/*.json): starts
 * an in-memory Temporal dev server from the provisioned CLI, runs each scenario on a real worker
 * and SQLite, and writes the histories. Re-run only when adding a scenario; committed histories
 * are what make a non-deterministic workflow change fail CI.
 *   npx tsx scripts/record-histories.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../activities';
import { createApp } from '../api/app';
import { loadConfig } from '../app/config';
import { ephemeralDecisionSigner } from '../app/decision-signer';
import { loadOrCreateSigningKey } from '../app/keys';
import { closeDb, openDb } from '../db/client';
import { signDecision } from '../domain/decision-proof';
import { drillStartOptions } from '../drills/store';
import { Outbox } from '../intake/outbox';
import { findTemporalCli, projectRoot } from '../temporal/cli-binary';
import { connectTemporal, queryIncident, updateIncident } from '../temporal/client';
import { startDevServer } from '../temporal/dev-server';
import { createWorker } from '../temporal/worker';
import { closeIncident, incidentState } from '../workflows/messages';

const out = path.join(projectRoot, 'test', 'histories');

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-record-'));
  const dev = await startDevServer({
    cliPath: findTemporalCli(process.env.TEMPORAL_CLI),
    dataDir,
    port: 17233,
    uiPort: 18233,
    namespace: 'default',
    persist: false,
  });
  const secret = 'record-secret-0123456789abcdef';
  const config = loadConfig({
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: dev.address,
    TEMPORAL_TASK_QUEUE: 'record',
  });
  const db = openDb(path.join(dataDir, 'firebreak.db'));
  const temporal = await connectTemporal(config.temporal, dev.address);
  const { worker } = await createWorker({
    address: dev.address,
    temporal: config.temporal,
    activities: createActivities({ db }),
  });
  const log = pino({ level: 'silent' });
  const decisions = ephemeralDecisionSigner();
  const outbox = new Outbox({
    db,
    temporal,
    log,
    drillStartOptions,
    decisionStart: { decisionKey: decisions.publicKeyHex, deciderRoles: ['admin'] },
  });
  const credentials = {
    adminToken: 'record-admin-0123456789abcdef',
    webhookSecret: secret,
    generatedFile: undefined,
  };
  const statusKey = loadOrCreateSigningKey(path.join(dataDir, 'keys'), 'status');
  const app = createApp({ db, temporal, credentials, outbox, log, statusKey, decisions });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await worker.runUntil(async () => {
    // Scenario: an alert opens an incident, two more attach, a responder closes it.
    const post = () =>
      app.request('/v1/alerts', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 'Agent key leaked',
          severity: 'high',
          source: 'siem',
          dedup_key: 'rec-1',
          agent_id: 'agent-1',
        }),
      });
    const first = (await (await post()).json()) as { incident_id: string };
    await outbox.drained();
    await post();
    await post();
    await outbox.drained();
    for (let i = 0; i < 100; i++) {
      const s = await queryIncident(temporal, first.incident_id, incidentState);
      if (s.alertCount === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const close = {
      decisionId: 'record-close',
      actor: { id: 'recorder', via: 'cli' as const },
      reason: 'recorded scenario',
    };
    await updateIncident(
      temporal,
      first.incident_id,
      closeIncident,
      signDecision(decisions, first.incident_id, 'close', close),
    );
    const handle = temporal.client.workflow.getHandle(`incident-${first.incident_id}`);
    await handle.result();
    const history = await handle.fetchHistory();
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'run-incident-no-playbook.json'), historyToJSON(history));
    console.log(
      `wrote ${path.join(out, 'run-incident-no-playbook.json')} (${history.events?.length} events)`,
    );
  });
  server.close();
  await outbox.stop();
  await temporal.connection.close();
  await closeDb(db);
  await dev.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
