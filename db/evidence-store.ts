/**
 * The evidence store: artifacts are written content-addressed by SHA-256 into a blob store
 * (blob-store.ts: DATA_DIR/evidence/ on local disk by default, or an S3-compatible bucket; neither
 * ever leaves a partial artifact under its hash), and each (incident, artifact) gets a
 * chain-of-custody row saying who collected it, when, from where, its hash and size. Every read
 * re-hashes the bytes, wherever they are kept. Workflows only ever see the hash.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { blobStoreOf, LocalBlobStore, type BlobStore } from './blob-store';
import { dataDirOf, type Db } from './client';
import { custodyOf, custodyRecord, recordCustody, type CustodyRow } from './evidence';

export type { CustodyRow } from './evidence';

/** The evidence directory next to the database file (DATA_DIR/evidence). */
export function evidenceDirFor(db: Db): string {
  return path.join(dataDirOf(db), 'evidence');
}

export class EvidenceStore {
  private chosen: BlobStore | undefined;

  /**
   * `blobs`: a blob store, or a local directory; default: the store attached to the database
   * handle (openDb's `evidence`, FIREBREAK_EVIDENCE_URL), else DATA_DIR/evidence beside it,
   * chosen on first use (an in-memory database has no DATA_DIR until something is stored).
   */
  constructor(
    private readonly db: Db,
    blobs?: BlobStore | string,
  ) {
    this.chosen = typeof blobs === 'string' ? new LocalBlobStore(blobs) : blobs;
  }

  get blobs(): BlobStore {
    this.chosen ??= blobStoreOf(this.db) ?? new LocalBlobStore(evidenceDirFor(this.db));
    return this.chosen;
  }

  /** Stores the bytes (once per content) and records custody for this incident (once). */
  async put(
    content: Buffer,
    meta: Omit<CustodyRow, 'id' | 'sha256' | 'size'>,
  ): Promise<{ sha256: string; size: number; source: string }> {
    const sha256 = crypto.createHash('sha256').update(content).digest('hex');
    await this.blobs.put(sha256, content);
    await recordCustody(this.db, { ...meta, sha256, size: content.length });
    return { sha256, size: content.length, source: meta.source };
  }

  list(incidentId: string): Promise<CustodyRow[]> {
    return custodyOf(this.db, incidentId);
  }

  custody(incidentId: string, sha256: string): Promise<CustodyRow | undefined> {
    return custodyRecord(this.db, incidentId, sha256);
  }

  /** The artifact's bytes, after checking they still hash to their name. */
  async read(sha256: string): Promise<Buffer> {
    const content = await this.blobs.get(sha256);
    if (content === undefined) throw new Error(`evidence ${sha256} is missing from ${this.blobs.location}`);
    const actual = crypto.createHash('sha256').update(content).digest('hex');
    if (actual !== sha256) throw new Error(`evidence ${sha256} is corrupt (hashes to ${actual})`);
    return content;
  }

  async intact(sha256: string, size: number): Promise<boolean> {
    try {
      return (await this.read(sha256)).length === size;
    } catch {
      return false;
    }
  }
}
