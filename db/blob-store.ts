/**
 * Where evidence bytes live, named by their SHA-256: a directory on local disk (the default,
 * DATA_DIR/evidence), or an S3-compatible bucket (FIREBREAK_EVIDENCE_URL=s3://bucket/prefix)
 * through the official AWS SDK v3 client, so that several API and worker processes on different
 * hosts share one store. Both write each content once and never overwrite it; reading back and
 * re-hashing is the evidence store's job (evidence-store.ts), not the backend's.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

export interface BlobStore {
  /** Where the bytes are, for custody records and error messages: no credentials in it. */
  readonly location: string;
  has(sha256: string): Promise<boolean>;
  /** Stores `content` under its hash, once: an existing object is left as it is. */
  put(sha256: string, content: Buffer): Promise<void>;
  /** The stored bytes, or undefined when nothing is stored under that hash. */
  get(sha256: string): Promise<Buffer | undefined>;
}

function checkHash(sha256: string): void {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
}

/** Files under `dir`/<first two hex>/<hash>: write to a temp file, fsync, rename. */
export class LocalBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  get location(): string {
    return this.dir;
  }

  pathOf(sha256: string): string {
    checkHash(sha256);
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): Promise<boolean> {
    return Promise.resolve(fs.existsSync(this.pathOf(sha256)));
  }

  put(sha256: string, content: Buffer): Promise<void> {
    const file = this.pathOf(sha256);
    if (fs.existsSync(file)) return Promise.resolve();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return Promise.resolve();
  }

  get(sha256: string): Promise<Buffer | undefined> {
    const file = this.pathOf(sha256);
    return Promise.resolve(fs.existsSync(file) ? fs.readFileSync(file) : undefined);
  }
}

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, moto, Ceph); undefined: AWS. */
  endpoint?: string;
  /** Path-style addressing (bucket in the path), which most S3-compatible stores need. */
  forcePathStyle: boolean;
  /** Explicit credentials (tests); default: the SDK's provider chain (env, profile, IAM role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function notFound(err: unknown): boolean {
  return (
    err instanceof NotFound ||
    err instanceof NoSuchKey ||
    (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)
  );
}

/**
 * Objects at <prefix><first two hex>/<hash>. Each upload carries its SHA-256 as the object's
 * checksum, so the store itself refuses bytes damaged on the way; an object that already exists is
 * not uploaded again (content addressing makes that write a no-op).
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;

  constructor(private readonly opts: S3BlobStoreOptions) {
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials,
    });
  }

  get location(): string {
    return `s3://${this.opts.bucket}/${this.opts.prefix}`;
  }

  private key(sha256: string): string {
    checkHash(sha256);
    return `${this.opts.prefix}${sha256.slice(0, 2)}/${sha256}`;
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.key(sha256) }));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  async put(sha256: string, content: Buffer): Promise<void> {
    if (await this.has(sha256)) return;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: this.key(sha256),
        Body: content,
        ContentType: 'application/octet-stream',
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(sha256) }),
      );
      if (!r.Body) return Buffer.alloc(0);
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

const attached = new WeakMap<object, BlobStore>();

/** Binds the configured evidence store to an open database handle (as openDb does with `evidence`). */
export function attachBlobStore(client: object, blobs: BlobStore): void {
  attached.set(client, blobs);
}

/** The evidence store configured for this handle, if one was attached. */
export function blobStoreOf(db: { $client: object }): BlobStore | undefined {
  return attached.get(db.$client);
}

/** Where evidence goes, as configured (app/config.ts parses FIREBREAK_EVIDENCE_*). */
export type EvidenceStorage =
  { kind: 'local'; dir: string } | ({ kind: 's3' } & Omit<S3BlobStoreOptions, 'credentials'>);

export function openBlobStore(storage: EvidenceStorage): BlobStore {
  return storage.kind === 'local' ? new LocalBlobStore(storage.dir) : new S3BlobStore(storage);
}
