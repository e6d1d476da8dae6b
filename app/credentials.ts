/**
 * Bootstrap credentials. The admin API token and the default alert source's webhook secret come
 * from the environment, or are generated on first start and kept in DATA_DIR/credentials.json
 * with file mode 0600, so a fresh install is secure without any setup and stays stable across
 * restarts. Their values are never logged: callers print only the file's path.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const StoredSchema = z.object({ adminToken: z.string().min(16), webhookSecret: z.string().min(16) });

export interface Credentials {
  adminToken: string;
  webhookSecret: string;
  /** The file generated values live in, when any value was generated. */
  generatedFile: string | undefined;
}

function generate(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(24).toString('base64url')}`;
}

export function loadCredentials(
  dataDir: string,
  fromEnv: { adminToken: string | undefined; webhookSecret: string | undefined },
): Credentials {
  if (fromEnv.adminToken && fromEnv.webhookSecret) {
    return { adminToken: fromEnv.adminToken, webhookSecret: fromEnv.webhookSecret, generatedFile: undefined };
  }
  const file = path.join(dataDir, 'credentials.json');
  let stored: z.infer<typeof StoredSchema>;
  if (fs.existsSync(file)) {
    const parsed = StoredSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is not a valid credentials file: delete it to regenerate`);
    stored = parsed.data;
  } else {
    stored = { adminToken: generate('fbk_admin'), webhookSecret: generate('fbk_whsec') };
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  }
  fs.chmodSync(file, 0o600);
  return {
    adminToken: fromEnv.adminToken ?? stored.adminToken,
    webhookSecret: fromEnv.webhookSecret ?? stored.webhookSecret,
    generatedFile: file,
  };
}
