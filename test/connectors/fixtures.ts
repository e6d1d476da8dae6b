/**
 * Shared pieces for connector tests: the real action activities over a test stack's DB with the
 * real live connectors, agent import through the real API, a small loopback HTTP server, and a
 * search of every byte under DATA_DIR (DB, WAL, evidence) for a secret.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createActivities } from '../../activities';
import type { ConnectorConfig } from '../../connectors/config';
import { buildLiveConnectors, type LiveConnectorDeps } from '../../connectors/registry';
import { signVerifierToken, statusJwks } from '../../connectors/status-document';
import type { LiveConnectors } from '../../connectors/types';
import { dialectOf, rawRows } from '../../db/client';
import type { ActionName, ActionRequest } from '../../domain/actions';
import { bearer, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

export function connectorConfig(stack: TestStack, over: Partial<ConnectorConfig> = {}): ConnectorConfig {
  return { pgAdminUrl: undefined, aws: undefined, statusBaseUrl: stack.url, httpSystems: [], ...over };
}

export function liveFor(
  stack: TestStack,
  over: Partial<ConnectorConfig> = {},
  extra: Partial<LiveConnectorDeps> = {},
) {
  return buildLiveConnectors({
    db: stack.db,
    statusKeys: statusJwks([stack.statusKey]),
    statusToken: () => signVerifierToken(stack.statusKey),
    config: connectorConfig(stack, over),
    ...extra,
  });
}

export function actionsFor(stack: TestStack, live: () => LiveConnectors) {
  return createActivities({ db: stack.db, liveConnectors: live });
}

let stepSeq = 0;
export function req(
  action: ActionName,
  params: Record<string, unknown>,
  over: Partial<ActionRequest> = {},
): ActionRequest {
  stepSeq += 1;
  return {
    incidentId: 'inc-1',
    stepId: `step-${stepSeq}`,
    action,
    params,
    mode: 'live',
    actor: 'playbook:test',
    ...over,
  };
}

export async function importAgents(stack: TestStack, agents: unknown[]) {
  const res = await fetch(`${stack.url}/v1/agents`, {
    method: 'POST',
    headers: bearer(TEST_ADMIN_TOKEN),
    body: JSON.stringify({ agents }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function localServer(handler: http.RequestListener): Promise<LocalServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function readBody(r: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every file under dir whose bytes contain `needle` (the DB, its WAL, evidence, logs). */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

/**
 * Where the stack stores `needle`: files under its data dir (SQLite's database, its WAL first
 * checkpointed into it, evidence, the audit head) and, on PostgreSQL, the rows of every table of
 * its database (as text), named `table <name>`.
 */
export async function storedContaining(stack: TestStack, needle: string): Promise<string[]> {
  if (dialectOf(stack.db) === 'sqlite') stack.db.$client.pragma('wal_checkpoint(TRUNCATE)');
  const hits = filesContaining(stack.dataDir, needle);
  if (dialectOf(stack.db) === 'postgres') {
    const tables = await rawRows<{ name: string }>(
      stack.db,
      sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
    );
    for (const { name } of tables) {
      const [row] = await rawRows<{ n: number }>(
        stack.db,
        sql`select count(*)::int as n from ${sql.identifier(name)} t where strpos(t::text, ${needle}) > 0`,
      );
      if (row && row.n > 0) hits.push(`table ${name}`);
    }
  }
  return hits;
}
