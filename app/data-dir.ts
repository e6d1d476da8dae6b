/**
 * DATA_DIR holds the credentials, the SQLite DB and its WAL, the embedded Temporal server's DB
 * (every incident's history) and log, drill reports and evidence: none of it is for other users
 * of the machine. Every entry point sets a 077 umask before it creates anything, so what this
 * process and its children (the Temporal dev server) create is 0600 / 0700 from the start, and
 * `secureDataDir` brings an install made before that (or by hand) to the same modes on start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config';

/** Owner-only: new files 0600, new directories 0700. */
export const PRIVATE_UMASK = 0o077;
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Call first in every entry point (main thread only: Node refuses umask in worker threads). */
export function usePrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

/**
 * Creates DATA_DIR (0700) when missing and makes it and everything in it owner-only: directories
 * 0700, files 0600. Symbolic links are left alone (chmod would follow them out of DATA_DIR).
 * A file it may not change (owned by another user) fails start-up naming DATA_DIR.
 */
export function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const fix = (p: string, mode: number) => {
    try {
      fs.chmodSync(p, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Removed between listing and chmod (a rotated log, a finished bundle): nothing to protect.
      if (code === 'ENOENT') return;
      throw new ConfigError(
        `DATA_DIR: cannot make ${p} private (${code ?? String(err)}): run Firebreak as the user that owns ${dataDir}`,
        { cause: err },
      );
    }
  };
  const walk = (dir: string) => {
    fix(dir, PRIVATE_DIR_MODE);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
      throw err;
    }
    for (const entry of entries) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) fix(p, PRIVATE_FILE_MODE);
    }
  };
  walk(dataDir);
}
