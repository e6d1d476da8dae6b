/**
 * The evidence store: artifacts are written content-addressed by SHA-256 under DATA_DIR/evidence/
 * (write to a temp file, fsync, rename: a crash never leaves a partial artifact under its hash),
 * and each (incident, artifact) gets a chain-of-custody row saying who collected it, when, from
 * where, its hash and size. Workflows only ever see the hash.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dataDirOf, type Db } from './client';
import { custodyOf, custodyRecord, recordCustody, type CustodyRow } from './evidence';

export type { CustodyRow } from './evidence';

/** The evidence directory next to the database file (DATA_DIR/evidence). */
export function evidenceDirFor(db: Db): string {
  return path.join(dataDirOf(db), 'evidence');
}

export class EvidenceStore {
  constructor(
    private readonly db: Db,
    readonly dir: string = evidenceDirFor(db),
  ) {}

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Stores the bytes (once per content) and records custody for this incident (once). */
  async put(
    content: Buffer,
    meta: Omit<CustodyRow, 'id' | 'sha256' | 'size'>,
  ): Promise<{ sha256: string; size: number; source: string }> {
    const sha256 = crypto.createHash('sha256').update(content).digest('hex');
    const file = this.pathOf(sha256);
    if (!fs.existsSync(file)) {
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
    }
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
  read(sha256: string): Buffer {
    const content = fs.readFileSync(this.pathOf(sha256));
    const actual = crypto.createHash('sha256').update(content).digest('hex');
    if (actual !== sha256) throw new Error(`evidence ${sha256} is corrupt (hashes to ${actual})`);
    return content;
  }

  intact(sha256: string, size: number): boolean {
    try {
      return this.read(sha256).length === size;
    } catch {
      return false;
    }
  }
}
