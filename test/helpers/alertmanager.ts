/**
 * A real Prometheus Alertmanager (the Debian package's binary) on loopback ports, configured with
 * one webhook receiver, and a small HTTP relay in front of our API that can answer 5xx for a
 * delivery it has already forwarded, to see what Alertmanager's retries do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/free-port';

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

export function requireAlertmanager(): string {
  if (!fs.existsSync(ALERTMANAGER_BIN)) {
    throw new Error(
      `Prometheus Alertmanager not found at ${ALERTMANAGER_BIN}: run \`apt-get install prometheus-alertmanager\` (or scripts/provision-test-services.sh), or set ALERTMANAGER_BIN`,
    );
  }
  return ALERTMANAGER_BIN;
}

export interface RunningAlertmanager {
  url: string;
  stop(): Promise<void>;
  output(): string;
}

export async function startAlertmanager(
  webhookUrl: string,
  bearerSecret: string,
): Promise<RunningAlertmanager> {
  const bin = requireAlertmanager();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-am-'));
  const config = `route:
  receiver: firebreak
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: firebreak
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${bearerSecret}
`;
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--storage.path=${path.join(dir, 'data')}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited with ${child.exitCode}:\n${out}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`alertmanager not ready on ${url}:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Delivery {
  status: number;
  body: any;
}

/** Forwards every request to `target`; while `failNext` > 0 it answers 500 after forwarding. */
export async function failingRelay(target: string) {
  const deliveries: Delivery[] = [];
  const state = { failNext: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const upstream = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method,
          headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
          body,
        });
        const text = await upstream.text();
        deliveries.push({ status: upstream.status, body: JSON.parse(body.toString('utf8')) });
        if (state.failNext > 0) {
          state.failNext--;
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end('injected failure after the alert was stored');
          return;
        }
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    deliveries,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
