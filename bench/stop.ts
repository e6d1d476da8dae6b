/**
 * alert → stop: from `POST /v1/alerts` (critical, built-in credential-leak playbook, live) to the
 * example agent's last successful tool call, per enforcement path the example agents have:
 * OFREP with change notification (event stream) and OFREP polling (BENCH_STOP_POLL_MS, default
 * 1000 ms). Each run starts the TypeScript example agent (examples/agents/typescript, a separate
 * process, one tool call every 100 ms on the in-process MCP tool server) as a fresh agent, waits
 * for three successful calls, sends the alert and waits for the agent to exit. Baseline, same
 * incidents: alert → containment (the disable step's activity starting, as `bench containment`
 * measures it). Targets: with change notification p50 < 1 s, p99 < 2 s; with polling, bounded by
 * the poll interval plus the containment latency.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { actionRunOf } from '../db/action-runs';
import { startToolServer } from '../examples/agents/typescript/tool-server';
import { startExampleAgent } from '../test/helpers/example-agents';
import { BENCH_ADMIN_TOKEN, percentile, postAlert, report, startBenchStack } from './lib/stack';

const RUNS = Number(process.env.BENCH_STOP_RUNS ?? 20);
const POLL_MS = Number(process.env.BENCH_STOP_POLL_MS ?? 1000);
const TOKEN = crypto.randomBytes(24).toString('hex');
const PATHS: { name: string; env: Record<string, string> }[] = [
  { name: 'change_notification', env: { KILL_SWITCH_MODE: 'events' } },
  { name: 'polling', env: { KILL_SWITCH_MODE: 'polling', POLL_INTERVAL_MS: String(POLL_MS) } },
];

export async function benchStop() {
  const ids = PATHS.flatMap((p) => Array.from({ length: RUNS }, (_, i) => `stop-${p.name}-${i}`));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-stop-'));
  const configFile = path.join(dir, 'firebreak.yaml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      default_rate_limit: { per_second: 1000000, burst: 1000000 },
      runtimes: {
        tokens: [
          {
            name: 'bench-agents',
            token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex'),
            agents: ids,
          },
        ],
      },
    }),
  );
  const stack = await startBenchStack({ env: { FIREBREAK_CONFIG: configFile } });
  const tools = await startToolServer();
  try {
    const imported = await fetch(`${stack.api.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agents: ids.map((id) => ({ id, name: id, owner: 'bench@example.com', environment: 'bench' })),
      }),
    });
    if (!imported.ok) throw new Error(`agent import: HTTP ${imported.status} ${await imported.text()}`);

    const allContain: number[] = [];
    for (const p of PATHS) {
      const stop: number[] = [];
      const learned: number[] = [];
      const contain: number[] = [];
      /** stop − containment of the same run: what the enforcement path itself adds. */
      const lag: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const agentId = `stop-${p.name}-${i}`;
        const agent = startExampleAgent('typescript', {
          FIREBREAK_URL: stack.api.url,
          FIREBREAK_RUNTIME_TOKEN: TOKEN,
          AGENT_ID: agentId,
          MCP_URL: tools.url,
          STEP_INTERVAL_MS: '100',
          ON_DISABLE: 'exit',
          ...p.env,
        });
        try {
          await agent.waitFor((e) => e.event === 'step' && e.ok === true && e.step === 3, 'third step');
          // The previous incident's investigate phase would otherwise share the worker with this one.
          await new Promise((r) => setTimeout(r, 1000));
          const t0 = Date.now();
          const incidentId = await postAlert(stack.api.url, {
            title: 'Agent key seen on paste site',
            severity: 'critical',
            source: 'bench',
            dedup_key: `stop-${agentId}`,
            agent_id: agentId,
            labels: { incident_class: 'credential_leak' },
          });
          const stopped = await agent.waitFor((e) => e.event === 'stopped', 'stop', 120_000);
          if (stopped.reason !== 'disabled')
            throw new Error(`${agentId} stopped: ${JSON.stringify(stopped)}`);
          await agent.exited;
          const last = Math.max(
            ...tools
              .calls()
              .filter((c) => c.caller === agentId)
              .map((c) => Date.parse(c.time)),
          );
          stop.push(last - t0);
          learned.push(Date.parse(stopped.t) - t0);
          const run = await actionRunOf(stack.services.db, incidentId, 'disable_agent');
          if (!run) throw new Error(`${incidentId}: no disable_agent run`);
          contain.push(Date.parse(run.startedAt) - t0);
          lag.push(stop.at(-1)! - contain.at(-1)!);
        } finally {
          await agent.stop();
        }
      }
      allContain.push(...contain);
      for (const xs of [stop, learned, contain, lag]) xs.sort((a, b) => a - b);
      const extra = p.name === 'polling' ? { poll_interval_ms: POLL_MS } : {};
      report('stop', `${p.name}_alert_to_last_tool_call_p50`, percentile(stop, 50), 'ms', {
        runs: RUNS,
        ...extra,
      });
      report('stop', `${p.name}_alert_to_last_tool_call_p99`, percentile(stop, 99), 'ms', {
        target: p.name === 'polling' ? '<= poll interval + containment' : '< 2000 (p50 < 1000)',
      });
      report('stop', `${p.name}_alert_to_agent_stopped_p50`, percentile(learned, 50), 'ms');
      report('stop', `${p.name}_baseline_alert_to_containment_p50`, percentile(contain, 50), 'ms');
      report('stop', `${p.name}_baseline_alert_to_containment_p99`, percentile(contain, 99), 'ms');
      report(
        'stop',
        `${p.name}_p50_ratio_vs_containment`,
        percentile(stop, 50) / percentile(contain, 50),
        'x',
      );
      report(
        'stop',
        `${p.name}_p99_ratio_vs_containment`,
        percentile(stop, 99) / percentile(contain, 99),
        'x',
      );
      report('stop', `${p.name}_stop_minus_containment_p50`, percentile(lag, 50), 'ms');
      report('stop', `${p.name}_stop_minus_containment_p99`, percentile(lag, 99), 'ms', extra);
    }
    allContain.sort((a, b) => a - b);
    report('stop', 'baseline_alert_to_containment_p50', percentile(allContain, 50), 'ms', {
      runs: allContain.length,
      loadavg_1m: Number(os.loadavg()[0]!.toFixed(1)),
    });
  } finally {
    await tools.close();
    await stack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
