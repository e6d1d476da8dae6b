/**
 * Body limits are enforced while reading, before anything parses or authenticates the body: an
 * oversized body (declared, or streamed chunked without a length) is answered 413 while the
 * client is still sending, on the routes that used to buffer everything first — the unsigned
 * Slack endpoint and evidence uploads — as well as on the JSON routes.
 */
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVIDENCE_BYTES, MAX_REQUEST_BYTES } from '../../api/body-limit';
import { HonoReceiver, MAX_SLACK_BODY_BYTES } from '../../slack/receiver';
import { scriptIncident } from '../helpers/scripted-incident';
import { sign } from '../helpers/slack-requests';
import { TEST_ADMIN_TOKEN } from '../helpers/stack';
import { startSlackStack, type SlackStack } from '../slack/setup';

const TOTAL = 300 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

interface Streamed {
  status: number;
  body: string;
  /** Bytes the client had handed to the socket when the response arrived. */
  sentAtResponse: number;
}

/**
 * Streams up to TOTAL bytes in 64 KiB chunks (honouring backpressure), stopping as soon as the
 * response arrives; nothing of that size is ever allocated.
 */
function streamPost(url: string, headers: Record<string, string>): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      const sentAtResponse = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      const done = () => resolve({ status: res.statusCode ?? 0, body, sentAtResponse });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
      else if (!answered) reject(new Error(`connection closed after ${sent} bytes without a response`));
    });
    const pump = () => {
      while (!answered && !req.destroyed && sent < TOTAL) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (sent >= TOTAL) req.end();
    };
    pump();
  });
}

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
  await scriptIncident(s.stack.db, { id: 'inc-upload', mode: 'live', openedAt: '2026-11-21T10:00:00.000Z' });
});
afterAll(async () => {
  await s?.close();
});

const chunked = { 'transfer-encoding': 'chunked' };
const evidenceUrl = () => `${s.stack.url}/v1/incidents/inc-upload/evidence?kind=access_logs&source=proxy-01`;
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'text/plain' };

function expectRefusedEarly(res: Streamed, limit: number) {
  expect(res.status).toBe(413);
  expect(JSON.parse(res.body).error).toMatchObject({ code: 'payload_too_large', field: '(body)' });
  // Answered while the client was still sending: the server stopped reading near the limit.
  expect(res.sentAtResponse).toBeLessThan(TOTAL);
  expect(res.sentAtResponse).toBeLessThan(limit + 64 * 1024 * 1024);
}

describe('POST /slack/events', () => {
  it('refuses an unsigned chunked 300 MB body with 413 while it is still being sent', async () => {
    const res = await streamPost(`${s.stack.url}/slack/events`, {
      ...chunked,
      'content-type': 'application/json',
    });
    expectRefusedEarly(res, MAX_REQUEST_BYTES);
  });

  it('refuses a declared 300 MB body without reading it', async () => {
    const res = await streamPost(`${s.stack.url}/slack/events`, {
      'content-length': String(TOTAL),
      'content-type': 'application/json',
    });
    expectRefusedEarly(res, MAX_REQUEST_BYTES);
  });

  it('still verifies and answers a signed request under the limit', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123' });
    const res = await fetch(`${s.stack.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...sign(body) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'c-123' });
  });
});

describe('HonoReceiver on its own', () => {
  it('stops reading an endless body at its limit and answers 413 before checking the signature', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += CHUNK.length;
        controller.enqueue(new Uint8Array(CHUNK));
      },
    });
    const receiver = new HonoReceiver({ signingSecret: 'unused-secret', log: pino({ level: 'silent' }) });
    const res = await receiver.handle(
      new Request('http://firebreak.test/slack/events', {
        method: 'POST',
        body: endless,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(MAX_SLACK_BODY_BYTES + 4 * CHUNK.length);
  });
});

describe('POST /v1/incidents/:id/evidence', () => {
  it('refuses a chunked upload past 25 MiB with 413 while it is still being sent', async () => {
    const res = await streamPost(evidenceUrl(), { ...admin, ...chunked });
    expectRefusedEarly(res, MAX_EVIDENCE_BYTES);
  });

  it('refuses a declared 300 MB upload without reading it', async () => {
    const res = await streamPost(evidenceUrl(), { ...admin, 'content-length': String(TOTAL) });
    expectRefusedEarly(res, MAX_EVIDENCE_BYTES);
  });

  it('accepts an upload over the 1 MiB request limit and under the evidence limit', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024, 0x62);
    const res = await fetch(evidenceUrl(), { method: 'POST', headers: admin, body: content });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { size: number }).size).toBe(content.length);
  });
});

describe('JSON routes', () => {
  it('refuses a chunked oversized body on a route that reads JSON (drills) before parsing it', async () => {
    const res = await streamPost(`${s.stack.url}/v1/drills`, {
      ...admin,
      ...chunked,
      'content-type': 'application/json',
    });
    expectRefusedEarly(res, MAX_REQUEST_BYTES);
  });
});
