/**
 * The optional YAML config file (FIREBREAK_CONFIG): alert sources and their secrets, routing
 * rules, and the users behind API tokens. It is parsed with zod once at start; secrets given as
 * `*_env` are read from the environment here, so the rest of the service sees only resolved
 * values (and API tokens only as SHA-256 digests). docs/config.md documents the format.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConnectorsFileSection } from '../connectors/config';
import { AlertFormat, Severity } from '../domain/alert';
import { Duration, durationMs, DurationOrSecondsMs } from '../domain/duration';
import { DEFAULT_RELEASE_POLICY, type ReleasePolicy } from '../domain/incident';

export const SCOPES = ['read', 'respond', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'letters, digits, ".", "_" or "-"');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name');

const RateLimitSchema = z.strictObject({
  per_second: z.number().positive(),
  burst: z.number().int().positive(),
});

const SourceSchema = z.strictObject({
  id,
  secret: z.string().min(16).optional(),
  secret_env: envName.optional(),
  /** PagerDuty Events API v2 routing key; defaults to the secret. */
  routing_key: z.string().min(8).optional(),
  routing_key_env: envName.optional(),
  alertmanager_key: z.enum(['fingerprint', 'group']).default('fingerprint'),
  rate_limit: RateLimitSchema.optional(),
  /** Accept only X-Firebreak-Signature: the secret (or routing key) alone is refused. */
  require_signature: z.boolean().default(false),
  /**
   * The agents this source may raise alerts about: by id, or by the team or environment the
   * inventory gives them (any one matching is enough). Absent: any agent. An alert about another
   * agent opens an incident whose containment waits for a confirmation.
   */
  scope: z
    .strictObject({
      agents: z.array(z.string().min(1)).default([]),
      teams: z.array(z.string().min(1)).default([]),
      environments: z.array(z.string().min(1)).default([]),
    })
    .optional(),
  /** The highest severity this source may set: a higher one is lowered to it, and containment waits. */
  max_severity: Severity.optional(),
  /** Who confirms containment for an alert outside this source's scope or above its max severity. */
  confirm_approvers: z
    .strictObject({
      users: z.array(z.string().min(1)).default([]),
      groups: z.array(z.string().min(1)).default([]),
      roles: z.array(z.string().min(1)).default([]),
    })
    .default({ users: [], groups: [], roles: ['incident_commander'] }),
});

const RuleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  match: z
    .strictObject({
      source: id.optional(),
      format: AlertFormat.optional(),
      severity: Severity.optional(),
      labels: z.record(z.string(), z.string()).default({}),
    })
    .default({ labels: {} }),
  playbook: z.string().min(1).optional(),
  severity: Severity.optional(),
  mode: z.enum(['live', 'drill']).optional(),
  /** Alerts with the same value of this label (agent_id also reads the alert's agent) share one incident. */
  group_by: z.string().min(1).optional(),
  window: DurationOrSecondsMs.optional(),
  on_resolved: z.enum(['resolve', 'annotate']).default('annotate'),
});

/**
 * The shortest API token accepted: the same floor as FIREBREAK_ADMIN_TOKEN, the webhook secret and
 * source secrets (16). Generate tokens with more, e.g. `openssl rand -hex 32`. A `token_sha256`
 * hides its token's length, so only tokens given through `token_env` can be checked.
 */
export const MIN_TOKEN_LENGTH = 16;

/** An instant with its offset (`2027-01-31T00:00:00Z`); YAML may already have made it a Date. */
const Instant = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v),
  z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time with offset, e.g. 2027-01-31T00:00:00Z' }),
);

const TokenSchema = z
  .strictObject({
    token_env: envName.optional(),
    token_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'a hex SHA-256 digest')
      .optional(),
    scopes: z.array(z.enum(SCOPES)).min(1),
    /** After this instant the token gets 401 "token expired". */
    expires_at: Instant.optional(),
  })
  .refine(
    (t) => Boolean(t.token_env) !== Boolean(t.token_sha256),
    'give exactly one of token_env, token_sha256',
  );

const UserSchema = z.strictObject({
  id,
  name: z.string().min(1),
  slack_user_id: z.string().min(1).optional(),
  roles: z.array(z.string().min(1)).default([]),
  tokens: z.array(TokenSchema).default([]),
});

/** A named secret given as an environment variable or as its SHA-256 digest (never the secret itself). */
const namedToken = {
  name: id,
  token_env: envName.optional(),
  token_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'a hex SHA-256 digest')
    .optional(),
};
const oneTokenSource = [
  (t: { token_env?: string; token_sha256?: string }) => Boolean(t.token_env) !== Boolean(t.token_sha256),
  'give exactly one of token_env, token_sha256',
] as const;

/**
 * A token that agent runtimes or gateways present to the kill-switch endpoints (status documents,
 * OFREP): it may ask only about the agents it names (one for a runtime, several for a gateway).
 */
const RuntimeTokenSchema = z
  .strictObject({ ...namedToken, agents: z.array(z.string().min(1)).min(1) })
  .refine(...oneTokenSource);

/** Roles that may abort, close and complete tasks on any live incident (config `decision_roles`). */
export const DEFAULT_DECISION_ROLES = ['admin', 'incident_commander'] as const;

const RuntimesSchema = z
  .strictObject({
    tokens: z.array(RuntimeTokenSchema).default([]),
    /** Per token: status and flag requests of one runtime or gateway. */
    rate_limit: RateLimitSchema.default({ per_second: 50, burst: 200 }),
    /** Per client address: refused requests (bad token, agent not in its scope). */
    refused_rate_limit: RateLimitSchema.default({ per_second: 1, burst: 10 }),
  })
  .default({
    tokens: [],
    rate_limit: { per_second: 50, burst: 200 },
    refused_rate_limit: { per_second: 1, burst: 10 },
  });

/**
 * A token an OPA presents when it uploads decision logs (`POST /v1/connectors/opa/decision-logs`,
 * its `services` entry's bearer credentials): one per OPA, or per group of OPAs, named in stored
 * events and in evidence custody.
 */
const DecisionLogSenderSchema = z.strictObject(namedToken).refine(...oneTokenSource);

const DEFAULT_DECISION_LOGS = {
  senders: [],
  rate_limit: { per_second: 20, burst: 100 },
  refused_rate_limit: { per_second: 1, burst: 10 },
  wait_for_upload: '10s',
};

/** OPA decision logs as the gateway's record of tool calls (docs/evidence.md). */
const OpaDecisionLogsSchema = z
  .strictObject({
    senders: z.array(DecisionLogSenderSchema).default([]),
    /** Per sender: uploads (OPA batches many decisions into one). */
    rate_limit: RateLimitSchema.default(DEFAULT_DECISION_LOGS.rate_limit),
    /** Per client address: uploads with a missing or unknown token. */
    refused_rate_limit: RateLimitSchema.default(DEFAULT_DECISION_LOGS.refused_rate_limit),
    /**
     * How long a collection waits for the uploads that reach its end (OPA's max_delay_seconds
     * and a margin); after it, the evidence says how far the record reached.
     */
    wait_for_upload: Duration.default(DEFAULT_DECISION_LOGS.wait_for_upload),
  })
  .default(DEFAULT_DECISION_LOGS);

export const DEFAULT_MAX_ALERTS_PER_REQUEST = 100;

export const ConfigFileSchema = z.strictObject({
  sources: z.array(SourceSchema).default([]),
  rules: z.array(RuleSchema).default([]),
  users: z.array(UserSchema).default([]),
  /**
   * Roles that may abort, resolve, close and complete tasks on every live incident, besides each
   * playbook's approvers (a user's `roles`, or SLACK_USER_ROLES).
   */
  decision_roles: z.array(z.string().min(1)).default([...DEFAULT_DECISION_ROLES]),
  /**
   * A stand-alone release of containment (`POST /v1/incidents/:id/release`, `/incident release`):
   * how many distinct people approve it, and how long it waits before it lapses (nothing undone).
   */
  release: z
    .strictObject({
      min_approvals: z.number().int().min(1).max(10).default(DEFAULT_RELEASE_POLICY.minApprovals),
      timeout: Duration.default(DEFAULT_RELEASE_POLICY.timeout),
    })
    .default({ min_approvals: DEFAULT_RELEASE_POLICY.minApprovals, timeout: DEFAULT_RELEASE_POLICY.timeout }),
  /** Applies to sources without their own rate_limit. */
  default_rate_limit: RateLimitSchema.default({ per_second: 500, burst: 5000 }),
  /** The most alerts one intake request (an Alertmanager batch) may carry; more is a 400. */
  max_alerts_per_request: z.number().int().positive().max(10_000).default(DEFAULT_MAX_ALERTS_PER_REQUEST),
  /** Live connector settings (connectors/config.ts has their shape). */
  connectors: ConnectorsFileSection,
  /** Tokens and rate limits of the kill-switch endpoints that agent runtimes and gateways call. */
  runtimes: RuntimesSchema,
  /** OPAs that upload their decision logs to Firebreak: the gateway record of tool calls. */
  opa_decision_logs: OpaDecisionLogsSchema,
});
export type ConfigFileInput = z.input<typeof ConfigFileSchema>;

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface SourceConfig {
  id: string;
  /** undefined: the source authenticates only by routing key, or (default) its secret is not known yet. */
  secret: string | undefined;
  routingKey: string | undefined;
  alertmanagerKey: 'fingerprint' | 'group';
  rateLimit: RateLimit;
  /** Only a signed request authenticates this source: bearer and routing key are refused. */
  requireSignature: boolean;
  /** The agents it may raise alerts about; undefined: any. */
  scope?: SourceScope;
  /** The highest severity it may set; undefined: any. */
  maxSeverity?: Severity;
  /** Who confirms containment when one of its alerts is outside the above. */
  confirmApprovers?: ApproverSet;
}

export interface SourceScope {
  agents: string[];
  teams: string[];
  environments: string[];
}

export interface ApproverSet {
  users: string[];
  groups: string[];
  roles: string[];
}

/** Who confirms containment for a source that names none: the incident commander role. */
export const DEFAULT_CONFIRM_APPROVERS: ApproverSet = {
  users: [],
  groups: [],
  roles: ['incident_commander'],
};

export type RouteRule = z.infer<typeof RuleSchema>;

export interface UserToken {
  sha256: string;
  scopes: Scope[];
  /** Epoch milliseconds after which the token is refused; absent: it does not expire. */
  expiresAtMs?: number;
}

export interface UserConfig {
  id: string;
  name: string;
  slackUserId: string | undefined;
  roles: string[];
  tokens: UserToken[];
}

export interface RuntimeToken {
  name: string;
  sha256: string;
  agents: string[];
}

export interface RuntimesConfig {
  tokens: RuntimeToken[];
  rateLimit: RateLimit;
  refusedRateLimit: RateLimit;
}

export interface DecisionLogsConfig {
  senders: { name: string; sha256: string }[];
  rateLimit: RateLimit;
  refusedRateLimit: RateLimit;
  waitForUploadMs: number;
}

export interface FileConfig {
  sources: SourceConfig[];
  rules: RouteRule[];
  users: UserConfig[];
  decisionRoles: string[];
  release: ReleasePolicy;
  defaultRateLimit: RateLimit;
  maxAlertsPerRequest: number;
  connectors: ConnectorsFileSection;
  runtimes: RuntimesConfig;
  opaDecisionLogs: DecisionLogsConfig;
}

export const EMPTY_FILE_CONFIG: FileConfig = {
  sources: [],
  rules: [],
  users: [],
  decisionRoles: [...DEFAULT_DECISION_ROLES],
  release: { ...DEFAULT_RELEASE_POLICY },
  defaultRateLimit: { perSecond: 500, burst: 5000 },
  maxAlertsPerRequest: DEFAULT_MAX_ALERTS_PER_REQUEST,
  connectors: { http_systems: [] },
  runtimes: {
    tokens: [],
    rateLimit: { perSecond: 50, burst: 200 },
    refusedRateLimit: { perSecond: 1, burst: 10 },
  },
  opaDecisionLogs: {
    senders: [],
    rateLimit: { perSecond: 20, burst: 100 },
    refusedRateLimit: { perSecond: 1, burst: 10 },
    waitForUploadMs: 10_000,
  },
};

export function sha256Hex(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** Parses an already-loaded document; `where` names it in errors. Throws Error listing each problem. */
export function parseFileConfig(doc: unknown, env: NodeJS.ProcessEnv, where: string): FileConfig {
  const parsed = ConfigFileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`${where}:\n  ${problems.join('\n  ')}`);
  }
  const f = parsed.data;
  const problems: string[] = [];
  const fromEnv = (name: string | undefined, at: string): string | undefined => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) problems.push(`${at}: environment variable ${name} is not set`);
    return v || undefined;
  };
  const sources = f.sources.map((s, i): SourceConfig => {
    const secret = s.secret ?? fromEnv(s.secret_env, `sources.${i}.secret_env`);
    const routingKey = s.routing_key ?? fromEnv(s.routing_key_env, `sources.${i}.routing_key_env`) ?? secret;
    if (!secret && !routingKey && s.id !== 'default')
      problems.push(`sources.${i}: give secret, secret_env, routing_key or routing_key_env`);
    if (s.require_signature && !secret && s.id !== 'default')
      problems.push(`sources.${i}.require_signature: needs secret or secret_env (a routing key cannot sign)`);
    return {
      id: s.id,
      secret,
      routingKey,
      alertmanagerKey: s.alertmanager_key,
      requireSignature: s.require_signature,
      ...(s.scope ? { scope: s.scope } : {}),
      ...(s.max_severity ? { maxSeverity: s.max_severity } : {}),
      confirmApprovers: s.confirm_approvers,
      rateLimit: s.rate_limit
        ? { perSecond: s.rate_limit.per_second, burst: s.rate_limit.burst }
        : { perSecond: f.default_rate_limit.per_second, burst: f.default_rate_limit.burst },
    };
  });
  const users = f.users.map((u, i): UserConfig => ({
    id: u.id,
    name: u.name,
    slackUserId: u.slack_user_id,
    roles: u.roles,
    tokens: u.tokens.flatMap((t, j) => {
      const at = `users.${i}.tokens.${j}.token_env`;
      const raw = fromEnv(t.token_env, at);
      if (raw !== undefined && raw.length < MIN_TOKEN_LENGTH)
        problems.push(
          `${at}: the token in ${t.token_env} has ${raw.length} characters; API tokens need at least ${MIN_TOKEN_LENGTH}`,
        );
      const digest = t.token_sha256?.toLowerCase() ?? (raw ? sha256Hex(raw) : undefined);
      if (!digest) return [];
      const expiry = t.expires_at === undefined ? {} : { expiresAtMs: Date.parse(t.expires_at) };
      return [{ sha256: digest, scopes: t.scopes, ...expiry }];
    }),
  }));
  const runtimeTokens = f.runtimes.tokens.flatMap((t, i): RuntimeToken[] => {
    const at = `runtimes.tokens.${i}.token_env`;
    const raw = fromEnv(t.token_env, at);
    if (raw !== undefined && raw.length < MIN_TOKEN_LENGTH)
      problems.push(
        `${at}: the token in ${t.token_env} has ${raw.length} characters; runtime tokens need at least ${MIN_TOKEN_LENGTH}`,
      );
    const digest = t.token_sha256?.toLowerCase() ?? (raw ? sha256Hex(raw) : undefined);
    return digest ? [{ name: t.name, sha256: digest, agents: t.agents }] : [];
  });
  const decisionLogSenders = f.opa_decision_logs.senders.flatMap((t, i) => {
    const at = `opa_decision_logs.senders.${i}.token_env`;
    const raw = fromEnv(t.token_env, at);
    if (raw !== undefined && raw.length < MIN_TOKEN_LENGTH)
      problems.push(
        `${at}: the token in ${t.token_env} has ${raw.length} characters; decision-log tokens need at least ${MIN_TOKEN_LENGTH}`,
      );
    const digest = t.token_sha256?.toLowerCase() ?? (raw ? sha256Hex(raw) : undefined);
    return digest ? [{ name: t.name, sha256: digest }] : [];
  });
  const mcp = f.connectors.mcp_gateway;
  const connectors: ConnectorsFileSection = mcp
    ? {
        ...f.connectors,
        mcp_gateway: {
          ...mcp,
          token: mcp.token ?? fromEnv(mcp.token_env, 'connectors.mcp_gateway.token_env'),
          agents: mcp.agents.map((a, i) => {
            const at = `connectors.mcp_gateway.agents.${i}`;
            if (!a.token && !a.token_env)
              problems.push(`${at}: give token or token_env (the agent's own token)`);
            return { ...a, token: a.token ?? fromEnv(a.token_env, `${at}.token_env`) };
          }),
        },
      }
    : f.connectors;
  const dup = (xs: string[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const dupRuntime = dup(f.runtimes.tokens.map((t) => t.name));
  if (dupRuntime) problems.push(`runtimes.tokens: name ${dupRuntime} appears twice`);
  const dupSender = dup(f.opa_decision_logs.senders.map((t) => t.name));
  if (dupSender) problems.push(`opa_decision_logs.senders: name ${dupSender} appears twice`);
  const dupSource = dup(sources.map((s) => s.id));
  if (dupSource) problems.push(`sources: id ${dupSource} appears twice`);
  const dupUser = dup(users.map((u) => u.id));
  if (dupUser) problems.push(`users: id ${dupUser} appears twice`);
  f.rules.forEach((r, i) => {
    if (r.window !== undefined && !r.group_by) problems.push(`rules.${i}.window: needs group_by`);
  });
  if (problems.length > 0) throw new Error(`${where}:\n  ${problems.join('\n  ')}`);
  return {
    sources,
    rules: f.rules,
    users,
    decisionRoles: f.decision_roles,
    release: { minApprovals: f.release.min_approvals, timeout: f.release.timeout },
    defaultRateLimit: { perSecond: f.default_rate_limit.per_second, burst: f.default_rate_limit.burst },
    maxAlertsPerRequest: f.max_alerts_per_request,
    connectors,
    runtimes: {
      tokens: runtimeTokens,
      rateLimit: { perSecond: f.runtimes.rate_limit.per_second, burst: f.runtimes.rate_limit.burst },
      refusedRateLimit: {
        perSecond: f.runtimes.refused_rate_limit.per_second,
        burst: f.runtimes.refused_rate_limit.burst,
      },
    },
    opaDecisionLogs: {
      senders: decisionLogSenders,
      rateLimit: {
        perSecond: f.opa_decision_logs.rate_limit.per_second,
        burst: f.opa_decision_logs.rate_limit.burst,
      },
      refusedRateLimit: {
        perSecond: f.opa_decision_logs.refused_rate_limit.per_second,
        burst: f.opa_decision_logs.refused_rate_limit.burst,
      },
      waitForUploadMs: durationMs(f.opa_decision_logs.wait_for_upload),
    },
  };
}

export function loadFileConfig(file: string, env: NodeJS.ProcessEnv): FileConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`FIREBREAK_CONFIG: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`FIREBREAK_CONFIG: ${file} is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseFileConfig(doc, env, `FIREBREAK_CONFIG (${file})`);
}
