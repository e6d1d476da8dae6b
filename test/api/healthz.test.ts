import { Connection } from '@temporalio/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { drillStartOptions } from '../../drills/store';
import { Outbox } from '../../intake/outbox';
import { testDecisionStart } from '../helpers/decisions';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.close();
});

describe('GET /healthz', () => {
  it('is 200 when Temporal and the DB answer', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', temporal: { ok: true }, db: { ok: true } });
  });

  it('is 503 naming Temporal when the Temporal frontend does not answer', async () => {
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    const temporal = { ...stack.temporal, connection: dead };
    const log = pino({ level: 'silent' });
    const app = createApp({
      ...stack,
      temporal,
      log,
      outbox: new Outbox({
        db: stack.db,
        temporal,
        log,
        drillStartOptions,
        decisionStart: testDecisionStart,
      }),
    });
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', temporal: { ok: false }, db: { ok: true } });
  });

  it('is 503 naming the DB when the database is closed', async () => {
    const { openDb } = await import('../../db/client');
    const closed = openDb(`${stack.dataDir}/other.db`);
    closed.$client.close();
    const log = pino({ level: 'silent' });
    const app = createApp({ ...stack, db: closed, log });
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ temporal: { ok: true }, db: { ok: false } });
  });
});
