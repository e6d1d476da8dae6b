/**
 * AWS IAM access keys (credential provider `aws_iam`, reference `<user name>/<access key id>`):
 * revoke = UpdateAccessKey Status=Inactive, reactivate = Active, verification = ListAccessKeys;
 * evidence = each key's status and GetAccessKeyLastUsed.
 * Rotation creates a new key, hands its secret to the configured `deliverSecret` (never to the
 * DB, logs or results) and deactivates the old key. The endpoint is configurable so tests and
 * air-gapped installs can point it at moto or a proxy.
 */
import {
  CreateAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import { registerSecret } from './redact';
import { ConnectorError, type CredentialProvider, type CredentialRef } from './types';

export interface AwsIamOptions {
  region?: string;
  endpoint?: string;
  credentials?: IAMClientConfig['credentials'];
  /** Where a rotated key's secret goes (a secret manager, the agent's deployment). */
  deliverSecret?: (c: CredentialRef, accessKeyId: string, secretAccessKey: string) => Promise<void>;
}

export function parseAwsReference(reference: string): { user: string; keyId: string } {
  const m = /^([\w+=,.@-]{1,128})\/(A[A-Z0-9]{15,127})$/.exec(reference);
  if (!m) throw new ConnectorError(`aws_iam reference ${reference} must be <user name>/<access key id>`);
  return { user: m[1]!, keyId: m[2]! };
}

export interface AwsIamConnector extends CredentialProvider {
  /** Evidence: each key's status, creation and last use (service, region, when). */
  describeKeys(references: string[]): Promise<unknown[]>;
}

export function awsIamConnector(o: AwsIamOptions): AwsIamConnector {
  const client = new IAMClient({
    region: o.region ?? 'us-east-1',
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: 3,
  });

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as {
        name?: string;
        message?: string;
        $retryable?: unknown;
        $metadata?: { httpStatusCode?: number };
      };
      if (e.name === 'NoSuchEntity' || e.name === 'NoSuchEntityException') {
        throw new ConnectorError(
          `AWS IAM ${what}: ${e.message ?? 'not found'}: check the credential reference`,
        );
      }
      const status = e.$metadata?.httpStatusCode ?? 0;
      throw new ConnectorError(
        `AWS IAM ${what} failed: ${e.name}: ${e.message}`,
        Boolean(e.$retryable) || status >= 500 || status === 0,
      );
    }
  }

  const setStatus = (c: CredentialRef, Status: 'Active' | 'Inactive') => {
    const { user, keyId } = parseAwsReference(c.reference);
    return call(`UpdateAccessKey ${keyId}`, () =>
      client.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status })),
    );
  };

  return {
    async describeKeys(references) {
      const out = [];
      for (const reference of references) {
        const { user, keyId } = parseAwsReference(reference);
        const list = await call(`ListAccessKeys ${user}`, () =>
          client.send(new ListAccessKeysCommand({ UserName: user })),
        );
        const key = list.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId);
        const used = await call(`GetAccessKeyLastUsed ${keyId}`, () =>
          client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId })),
        );
        out.push({
          reference,
          status: key?.Status ?? 'missing',
          created_at: key?.CreateDate?.toISOString() ?? null,
          last_used_at: used.AccessKeyLastUsed?.LastUsedDate?.toISOString() ?? null,
          last_used_service: used.AccessKeyLastUsed?.ServiceName ?? null,
          last_used_region: used.AccessKeyLastUsed?.Region ?? null,
        });
      }
      return out;
    },
    revoke: async (c) => void (await setStatus(c, 'Inactive')),
    reactivate: async (c) => void (await setStatus(c, 'Active')),
    async isActive(c) {
      const { user, keyId } = parseAwsReference(c.reference);
      const r = await call(`ListAccessKeys ${user}`, () =>
        client.send(new ListAccessKeysCommand({ UserName: user })),
      );
      const key = r.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId);
      if (!key) throw new ConnectorError(`AWS IAM key ${keyId} of ${user} no longer exists`);
      return key.Status === 'Active';
    },
    async rotate(c) {
      if (!o.deliverSecret) {
        throw new ConnectorError('aws_iam rotation needs a secret handoff (deliverSecret); revoke instead');
      }
      const { user } = parseAwsReference(c.reference);
      const r = await call(`CreateAccessKey ${user}`, () =>
        client.send(new CreateAccessKeyCommand({ UserName: user })),
      );
      const id = r.AccessKey?.AccessKeyId;
      const secret = r.AccessKey?.SecretAccessKey;
      if (!id || !secret) throw new ConnectorError('AWS IAM CreateAccessKey returned no key');
      registerSecret(secret);
      await o.deliverSecret(c, id, secret);
      await setStatus(c, 'Inactive');
      return { reference: `${user}/${id}` };
    },
  };
}
