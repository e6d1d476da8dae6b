/**
 * `npm run demo`: the kill switch end to end on embedded defaults (`npm start`'s composition: an
 * embedded Temporal dev server, SQLite, worker and API), in a fresh temp DATA_DIR on free ports so
 * it never touches ./data or a running install. It imports examples/inventory.yaml, starts the
 * TypeScript example agent (examples/agents/typescript) as support-bot against a tiny MCP tool
 * server (examples/agents/typescript/tool-server.ts: no Python needed), sends a critical alert,
 * and prints the agent stopping, the incident, and how to approve its next step. Firebreak then
 * stays up until Ctrl-C; `--exit` stops once that is printed (the test runs it so).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pino } from 'pino';
import YAML from 'yaml';
import { loadConfig } from '../app/config';
import { freePort } from '../app/free-port';
import { openServices, resolveTemporal, startApi, startWorker } from '../app/runtime';
import { closeDb } from '../db/client';
import { startToolServer } from '../examples/agents/typescript/tool-server';
import { queryIncident, type TemporalHandle } from '../temporal/client';
import { playbookState } from '../workflows/messages';

const ROOT = path.resolve(import.meta.dirname, '..');
const AGENT = 'support-bot';
const exitWhenDone = process.argv.includes('--exit');

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const dataDir = process.env.DEMO_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-demo-'));
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const runtimeToken = crypto.randomBytes(24).toString('hex');
  const configFile = path.join(dataDir, 'firebreak.yaml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      runtimes: {
        tokens: [
          {
            name: AGENT,
            token_sha256: crypto.createHash('sha256').update(runtimeToken).digest('hex'),
            agents: [AGENT],
          },
        ],
      },
    }),
  );
  const config = loadConfig({
    DATA_DIR: dataDir,
    FIREBREAK_CONFIG: configFile,
    FIREBREAK_KEY_DIR: path.join(dataDir, 'keys'),
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    LOG_LEVEL: 'error',
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
  });
  out(`demo: starting Firebreak (embedded Temporal, SQLite) in ${dataDir}`);
  const log = pino({ level: 'error' });
  const services = await openServices(config);
  const target = await resolveTemporal(config, true, log);
  const worker = await startWorker(config, target, services.db);
  const workerRun = worker.run();
  const api = await startApi(config, target, services, log);
  const admin = services.credentials.adminToken;
  const json = { 'content-type': 'application/json' };
  const asAdmin = { ...json, authorization: `Bearer ${admin}` };
  out(`demo: Firebreak API ${api.url}  Temporal UI ${target.uiUrl ?? '-'}`);

  const inventory = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples', 'inventory.yaml'), 'utf8')) as {
    agents: { id: string }[];
  };
  const imported = await fetch(`${api.url}/v1/agents`, {
    method: 'POST',
    headers: asAdmin,
    body: JSON.stringify(inventory),
  });
  if (!imported.ok) throw new Error(`inventory import: HTTP ${imported.status} ${await imported.text()}`);
  out(`demo: imported examples/inventory.yaml (${inventory.agents.map((a) => a.id).join(', ')})`);

  const tools = await startToolServer({ logFile: path.join(dataDir, 'tool-calls.jsonl') });
  out(`demo: MCP tool server ${tools.url} (search, send_email)`);

  const agent = spawn(process.execPath, ['--import', 'tsx', 'examples/agents/typescript/agent.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      FIREBREAK_URL: api.url,
      FIREBREAK_RUNTIME_TOKEN: runtimeToken,
      AGENT_ID: AGENT,
      AGENT_NAME: 'Customer support agent',
      MCP_URL: tools.url,
      KILL_SWITCH_MODE: 'events',
      STEP_INTERVAL_MS: '300',
      ON_DISABLE: 'exit',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const agentExit = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
  const lines = readline.createInterface({ input: agent.stdout! });
  let steps = 0;
  let onStep: () => void = () => undefined;
  let stopped: Record<string, unknown> | undefined;
  lines.on('line', (line) => {
    out(`agent  ${line}`);
    const e = JSON.parse(line) as Record<string, unknown>;
    if (e.event === 'step' && e.ok === true) {
      steps += 1;
      onStep();
    }
    if (e.event === 'stopped') stopped = e;
  });

  await new Promise<void>((resolve, reject) => {
    onStep = () => steps >= 3 && resolve();
    void agentExit.then((code) => reject(new Error(`the agent exited (${code}) before its third step`)));
  });

  const sentAt = Date.now();
  const alert = {
    title: 'support-bot emails customer records to an unknown address',
    severity: 'critical',
    source: 'ai-gateway',
    dedup_key: `demo-exfil-${sentAt}`,
    agent_id: AGENT,
    labels: { incident_class: 'agent_anomaly' },
  };
  out(`demo: POST /v1/alerts ${JSON.stringify(alert)}`);
  const res = await fetch(`${api.url}/v1/alerts`, {
    method: 'POST',
    headers: { ...json, authorization: `Bearer ${services.credentials.webhookSecret}` },
    body: JSON.stringify(alert),
  });
  if (res.status !== 202) throw new Error(`alert: HTTP ${res.status} ${await res.text()}`);
  const incidentId = ((await res.json()) as { incident_id: string }).incident_id;
  out(`demo: incident ${incidentId} opened`);

  const code = await agentExit;
  if (!stopped) throw new Error(`the agent exited (${code}) without stopping on the kill switch`);
  const callsAtStop = tools.calls().length;
  out(
    `demo: the agent stopped ${Date.now() - sentAt} ms after the alert (status version ` +
      `${String(stopped.version)}, incident ${String(stopped.incident)}); tool calls that got through: ${callsAtStop}`,
  );

  const next = await nextResponderStep(api.temporal, incidentId);
  const incident = (await (
    await fetch(`${api.url}/v1/incidents/${incidentId}`, { headers: asAdmin })
  ).json()) as IncidentView;
  const timeline = (await (
    await fetch(`${api.url}/v1/incidents/${incidentId}/timeline?limit=200`, { headers: asAdmin })
  ).json()) as { events: { at: string; kind: string; message: string }[] };
  out(
    `demo: incident ${incidentId}: ${incident.title} (${incident.severity}, ${incident.status}, ` +
      `phase ${incident.phase}, playbook ${incident.playbook_id})`,
  );
  for (const e of timeline.events) out(`  ${e.at}  ${e.kind.padEnd(18)} ${e.message}`);
  if (incident.needs_attention)
    out(`demo: needs attention: ${incident.needs_attention.reason} (the agent stays disabled)`);
  const token = `$(node -p "require('${dataDir}/credentials.json').adminToken")`;
  const post = `curl -s -X POST -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json'`;
  out(`demo: the next step waits for a responder: ${next.stepId}: ${next.text}`);
  if (next.kind === 'task')
    out(`  done:     ${post} ${api.url}/v1/incidents/${incidentId}/tasks/${next.stepId}/done -d '{}'`);
  else
    out(
      `  approve:  ${post} ${api.url}/v1/incidents/${incidentId}/approvals/${next.stepId} -d '{"decision":"approve"}'`,
    );
  out(`  incident: curl -s -H "Authorization: Bearer ${token}" ${api.url}/v1/incidents/${incidentId}`);
  out(`  workflow: ${target.uiUrl ?? ''}/namespaces/default/workflows/${incident.workflow_id}`);
  out(
    `demo: the MCP server saw ${tools.calls().length} tool calls; after the stop: ${tools.calls().length - callsAtStop}`,
  );

  const shutdown = async () => {
    await tools.close();
    await api.close();
    worker.shutdown();
    await workerRun;
    await closeDb(services.db);
    await target.devServer?.stop();
  };
  if (exitWhenDone) {
    await shutdown();
    out('demo: done');
    return;
  }
  out('demo: Firebreak stays up for the approval; Ctrl-C stops it');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await shutdown();
}

interface IncidentView {
  title: string;
  severity: string;
  status: string;
  phase: string;
  playbook_id: string | null;
  workflow_id: string;
  needs_attention: { reason: string } | null;
}

/** The playbook's first step that waits for a person: an open task or a pending approval. */
async function nextResponderStep(temporal: TemporalHandle, id: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const state = await queryIncident(temporal, id, playbookState).catch(() => null);
    const task = state?.openTasks[0];
    if (task) return { kind: 'task' as const, stepId: task.stepId, text: task.task };
    const approval = state?.pendingApprovals[0];
    if (approval) return { kind: 'approval' as const, stepId: approval.stepId, text: approval.prompt };
    if (Date.now() > deadline) throw new Error(`incident ${id} waited for nobody within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
