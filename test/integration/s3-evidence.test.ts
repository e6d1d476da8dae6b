import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionsFor, importAgents, liveFor, req } from '../connectors/fixtures';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startMoto, type LocalMoto } from './services';

// Evidence kept in an S3-compatible bucket (moto's S3): uploaded and collected artifacts land
// there under their hash, custody stays in the database, and every read re-hashes what the bucket
// returns, so an object changed behind Firebreak's back is refused rather than served.
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const BUCKET = 'firebreak-evidence';
const PREFIX = 'prod/';
let moto: LocalMoto;
let stack: TestStack;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: creds,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // The API's store reads the SDK's default credential chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
  stack = await startTestStack({
    withWorker: false,
    env: {
      FIREBREAK_EVIDENCE_URL: `s3://${BUCKET}/${PREFIX}`,
      FIREBREAK_EVIDENCE_S3_ENDPOINT: moto.endpoint,
      FIREBREAK_EVIDENCE_S3_REGION: 'us-east-1',
    },
  });
  await importAgents(stack, [
    {
      id: 'agent-s3',
      name: 'S3 agent',
      owner: 'sec@example.com',
      environment: 'prod',
      permissions: ['db:read'],
    },
  ]);
});
afterAll(async () => {
  s3?.destroy();
  await stack?.close();
  await moto?.stop();
});

async function openIncident(dedupKey: string): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({ title: 'S3 evidence', severity: 'low', source: 'test', dedup_key: dedupKey }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

const objectKey = (sha: string) => `${PREFIX}${sha.slice(0, 2)}/${sha}`;
const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

async function objectBytes(sha: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: objectKey(sha) }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe('evidence in S3', () => {
  it('stores an uploaded artifact in the bucket under its hash and serves it back re-hashed', async () => {
    const incidentId = await openIncident('s3-upload');
    const body = 'tool call log exported by hand\n';
    const up = await fetch(
      `${stack.url}/v1/incidents/${incidentId}/evidence?kind=gateway_log&source=export`,
      {
        method: 'POST',
        headers: { ...bearer(TEST_ADMIN_TOKEN), 'content-type': 'text/plain' },
        body,
      },
    );
    expect(up.status).toBe(201);
    const { sha256: sha } = (await up.json()) as { sha256: string };
    expect(sha).toBe(sha256(body));
    expect((await objectBytes(sha)).toString()).toBe(body);
    // Nothing was written to local disk.
    expect(fs.existsSync(path.join(stack.dataDir, 'evidence'))).toBe(false);

    const got = await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence/${sha}`, {
      headers: bearer(TEST_ADMIN_TOKEN),
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('x-content-sha256')).toBe(sha);
    expect(await got.text()).toBe(body);

    const list = (await (
      await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence`, { headers: bearer(TEST_ADMIN_TOKEN) })
    ).json()) as { evidence: { sha256: string; collected_by: string }[] };
    expect(list.evidence).toEqual([expect.objectContaining({ sha256: sha, collected_by: 'person:admin' })]);
  });

  it('refuses to serve an object that was changed in the bucket, and a missing one', async () => {
    const incidentId = await openIncident('s3-tamper');
    const body = 'original bytes';
    const up = await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence?kind=notes&source=export`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body,
    });
    const { sha256: sha } = (await up.json()) as { sha256: string };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey(sha), Body: 'tampered bytes' }));
    const got = await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence/${sha}`, {
      headers: bearer(TEST_ADMIN_TOKEN),
    });
    expect(got.status).toBe(503);
    expect(((await got.json()) as { error: { message: string } }).error.message).toContain('corrupt');

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey(sha) }));
    const gone = await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence/${sha}`, {
      headers: bearer(TEST_ADMIN_TOKEN),
    });
    expect(gone.status).toBe(503);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toContain(
      `missing from s3://${BUCKET}/${PREFIX}`,
    );
  });

  it('collects evidence into the bucket, and the action verifies by re-hashing what S3 returns', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    const out = await acts.executeAction(
      req(
        'evidence.collect',
        { agent_id: 'agent-s3', kind: 'agent_config' },
        { incidentId: 'inc-s3', stepId: 'cfg' },
      ),
    );
    expect(out).toMatchObject({ ok: true, verified: true });
    const art = (out.output.artifacts as { sha256: string; size: number }[])[0]!;
    const bytes = await objectBytes(art.sha256);
    expect(sha256(bytes)).toBe(art.sha256);
    expect(bytes.length).toBe(art.size);
    expect(JSON.parse(bytes.toString()).sources['firebreak:inventory']).toMatchObject({ id: 'agent-s3' });

    // Collected twice, stored once: content addressing makes the second upload a no-op.
    const again = await acts.executeAction(
      req(
        'evidence.collect',
        { agent_id: 'agent-s3', kind: 'agent_config' },
        { incidentId: 'inc-s3', stepId: 'cfg2' },
      ),
    );
    const keys = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: objectKey(art.sha256) }));
    expect(keys.KeyCount).toBe(1);
    expect(again).toMatchObject({ ok: true, verified: true });
  });
});
