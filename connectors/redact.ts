/**
 * Secret redaction for everything Firebreak records (action_runs, the audit log, timeline,
 * errors): values under secret-looking keys, credentials embedded in URLs, bearer tokens, and any
 * value a connector registered as secret (its admin password, HMAC key, a new access key) are
 * replaced by `[redacted]` before they are stored or logged.
 */
const SECRET_KEY =
  /secret|token|password|passwd|private|signing|api_?key|credential_value|authorization|key$/i;
const ALLOWED_KEYS = new Set(['credential_id', 'access_key_id', 'idempotency_key', 'key']);
const known = new Set<string>();

export const REDACTED = '[redacted]';

/** Marks a value as secret everywhere: it is scrubbed from any string that contains it. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) known.add(value);
}

export function redactString(s: string): string {
  let out = s
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)[^@\s/]+@/gi, `$1${REDACTED}@`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`)
    .replace(/\b(password|secret|token)=([^&\s]+)/gi, `$1=${REDACTED}`);
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

export function redactValue(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key) && !ALLOWED_KEYS.has(key)) {
    return value === undefined || value === null ? value : REDACTED;
  }
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

export function redactRecord(params: Record<string, unknown>): Record<string, unknown> {
  return redactValue(params) as Record<string, unknown>;
}
