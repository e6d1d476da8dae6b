/**
 * The in-house system of the alert-storm fault test (test/helpers/alert-storm.ts): a signed-HTTP
 * target holding the agents' credentials. It refuses requests without a valid Firebreak signature,
 * revokes a credential, answers whether one is still active, and counts every revoke by the
 * Idempotency-Key it came with, so a test can check each effect happened exactly once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../connectors/signed-http';

export const TARGET_SECRET = 'storm-target-hmac-secret-0123456789';

/** The in-house system holding the agents' credentials: revokes, and answers whether one is active. */
export interface RevokeTarget {
  url: string;
  /** Effects applied, by the Idempotency-Key they came with. */
  effects: Map<string, number>;
  badSignatures: number;
  close(): Promise<void>;
}

export async function startRevokeTarget(): Promise<RevokeTarget> {
  const revoked = new Set<string>();
  const target: RevokeTarget = { url: '', effects: new Map(), badSignatures: 0, close: async () => {} };
  const server = http.createServer((q, s) => {
    let body = '';
    q.on('data', (d: Buffer) => (body += d.toString()));
    q.on('end', () => {
      const signed = { method: q.method ?? '', path: q.url ?? '', body };
      if (!verifySignature(TARGET_SECRET, q.headers['x-firebreak-signature'] as string, signed)) {
        target.badSignatures += 1;
        s.writeHead(401).end('{}');
        return;
      }
      const m = /^\/(revoke|access)\/(.+)$/.exec(q.url ?? '');
      const name = decodeURIComponent(m?.[2] ?? '');
      if (m?.[1] === 'revoke') {
        const key = String(q.headers['idempotency-key']);
        target.effects.set(key, (target.effects.get(key) ?? 0) + 1);
        revoked.add(name);
        s.writeHead(200).end(JSON.stringify({ ok: true }));
      } else if (m?.[1] === 'access') {
        s.writeHead(200).end(JSON.stringify({ active: !revoked.has(name) }));
      } else s.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () => new Promise<void>((r) => server.close(() => r()));
  return target;
}
