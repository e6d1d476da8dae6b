import fs from 'node:fs';
import path from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../activities/audit';
import type { LiveConnectors } from '../../connectors/types';
import { agentCredentialsOf } from '../../db/agents';
import { actionsFor, importAgents, liveFor, req, storedContaining } from '../connectors/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';
import { startMoto, type LocalMoto } from './services';

const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let stack: TestStack;
let moto: LocalMoto;
let iam: IAMClient;
let keyId: string;
let firstSecret: string;
const handedOff: { keyId: string; secret: string }[] = [];

beforeAll(async () => {
  moto = await startMoto();
  stack = await startTestStack({ withWorker: false });
  iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  await iam.send(new CreateUserCommand({ UserName: 'support-bot' }));
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'support-bot' }));
  keyId = k.AccessKey!.AccessKeyId!;
  firstSecret = k.AccessKey!.SecretAccessKey!;
  await importAgents(stack, [
    {
      id: 'agent-aws',
      name: 'Support bot',
      owner: 'support@example.com',
      environment: 'prod',
      credentials: [
        {
          id: 'agent-aws-key',
          provider: 'aws_iam',
          reference: `support-bot/${keyId}`,
          scopes: ['s3:GetObject'],
        },
      ],
    },
  ]);
});
afterAll(async () => {
  iam?.destroy();
  await stack?.close();
  await moto?.stop();
});

const live = () =>
  liveFor(
    stack,
    { aws: { endpoint: moto.endpoint, region: 'us-east-1' } },
    {
      aws: {
        credentials: creds,
        deliverSecret: async (_c, id, secret) => void handedOff.push({ keyId: id, secret }),
      },
    },
  );

async function keyStatus(id: string) {
  const r = await iam.send(new ListAccessKeysCommand({ UserName: 'support-bot' }));
  return r.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status;
}

describe('AWS IAM connector against moto', () => {
  it('revokes an access key (Inactive, verified with ListAccessKeys) and replays the step', async () => {
    expect(await keyStatus(keyId)).toBe('Active');
    const acts = actionsFor(stack, live);
    const r = req('credentials.revoke', { agent_id: 'agent-aws', provider: 'aws_iam' });
    const first = await acts.executeAction(r);
    expect(first).toMatchObject({ ok: true, verified: true, replayed: false });
    expect(first.output.credentials).toEqual([
      { id: 'agent-aws-key', provider: 'aws_iam', reference: `support-bot/${keyId}`, status: 'inactive' },
    ]);
    expect(await keyStatus(keyId)).toBe('Inactive');
    expect(await acts.executeAction(r)).toEqual({ ...first, replayed: true });
    const row = (await agentCredentialsOf(stack.db, ['agent-aws'])).find((c) => c.id === 'agent-aws-key');
    expect(row?.status).toBe('inactive');
  });

  it('reactivates the key as the undo', async () => {
    const r = await actionsFor(stack, live).executeAction(
      req('credentials.reactivate', { agent_id: 'agent-aws' }),
    );
    expect(r).toMatchObject({ ok: true, verified: true });
    expect(await keyStatus(keyId)).toBe('Active');
  });

  it('rotates: a new key is handed off, the old one is inactive, no secret is stored', async () => {
    const r = await actionsFor(stack, live).executeAction(
      req('credentials.rotate', { agent_id: 'agent-aws', credential_id: 'agent-aws-key' }),
    );
    expect(r).toMatchObject({ ok: true, verified: true });
    expect(handedOff).toHaveLength(1);
    const next = handedOff[0]!;
    expect(r.output.issued).toEqual([
      { id: expect.stringMatching(/^agent-aws-key~/), reference: `support-bot/${next.keyId}` },
    ]);
    expect(await keyStatus(keyId)).toBe('Inactive');
    expect(await keyStatus(next.keyId)).toBe('Active');
    expect(await storedContaining(stack, next.secret)).toEqual([]);
    expect(await storedContaining(stack, firstSecret)).toEqual([]);
    expect(JSON.stringify(r)).not.toContain(next.secret);
    expect((await verifyAuditChain(stack.db, { key: stack.auditKey })).ok).toBe(true);
  });

  it('a rotation interrupted after acting is not repeated on retry (counted at IAM)', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'crash-bot' }));
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'crash-bot' }));
    await importAgents(stack, [
      {
        id: 'agent-crash',
        name: 'Crash bot',
        owner: 'x@example.com',
        environment: 'prod',
        credentials: [
          { id: 'crash-key', provider: 'aws_iam', reference: `crash-bot/${k.AccessKey!.AccessKeyId}` },
        ],
      },
    ]);
    const r = req('credentials.rotate', { agent_id: 'agent-crash' });
    const crashing = (): LiveConnectors => {
      const real = live()['credentials.rotate']!;
      return {
        'credentials.rotate': {
          ...real,
          act: async (p, ctx) => {
            await real.act(p, ctx);
            throw new Error('worker killed');
          },
        },
      };
    };
    await expect(actionsFor(stack, crashing).executeAction(r)).rejects.toThrow(/worker killed/);
    const retried = await actionsFor(stack, live).executeAction(r);
    expect(retried).toMatchObject({ ok: true, verified: true, replayed: false });
    expect(retried.summary).toMatch(/already in effect/);
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'crash-bot' }));
    expect(keys.AccessKeyMetadata?.map((m) => m.Status).sort()).toEqual(['Active', 'Inactive']);
  });

  it('collects access key status and last use as evidence', async () => {
    const r = await actionsFor(stack, live).executeAction(
      req('evidence.collect', { agent_id: 'agent-aws', kind: 'auth_attempts' }, { incidentId: 'inc-aws' }),
    );
    // PostgreSQL is not configured in this test: that half of the kind is recorded as not available.
    expect(r).toMatchObject({ ok: true, verified: true, output: { status: 'partial' } });
    const art = (r.output.artifacts as any[])[0];
    expect(art.source).toBe('aws:iam_access_keys');
    const doc = JSON.parse(
      fs.readFileSync(path.join(stack.dataDir, 'evidence', art.sha256.slice(0, 2), art.sha256), 'utf8'),
    );
    expect(doc.not_available).toEqual([
      { source: 'postgres:pg_roles', reason: expect.stringContaining('PostgreSQL is not configured') },
    ]);
    expect(doc.sources['aws:iam_access_keys']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reference: `support-bot/${keyId}`, status: 'Inactive' }),
      ]),
    );
  });

  it('an unknown key fails non-retryably saying to check the reference', async () => {
    await importAgents(stack, [
      {
        id: 'agent-ghost',
        name: 'Ghost',
        owner: 'x@example.com',
        environment: 'prod',
        credentials: [
          { id: 'ghost-key', provider: 'aws_iam', reference: 'support-bot/AKIAAAAAAAAAAAAAAAAA' },
        ],
      },
    ]);
    const err = await actionsFor(stack, live)
      .executeAction(req('credentials.revoke', { agent_id: 'agent-ghost' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/check the credential reference/),
    });
  });
});
