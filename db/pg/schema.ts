/**
 * The PostgreSQL declaration of the tables in db/schema.ts, for drizzle-kit (drizzle.pg.config.ts
 * generates db/pg/migrations from it). Queries are built from db/schema.ts on both dialects
 * (see db/client.ts), so every column here stores its value the way the SQLite column type of the
 * same name reads and writes it: JSON columns are text, the boolean `drills.auto` is 0/1, and
 * `real` is double precision. test/db/pg-schema.test.ts checks that both declare the same
 * tables, columns, nullability and indexes.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const incidents = pgTable(
  'incidents',
  {
    id: text('id').primaryKey(),
    /** The dedup/grouping key the incident was opened for (source + key). */
    key: text('key').notNull(),
    seq: integer('seq').notNull(),
    workflowId: text('workflow_id').notNull(),
    source: text('source').notNull(),
    title: text('title').notNull(),
    severity: text('severity').notNull(),
    status: text('status').notNull(),
    mode: text('mode').notNull(),
    phase: text('phase').notNull(),
    agentId: text('agent_id'),
    playbookId: text('playbook_id'),
    /** For incidents opened by a grouping rule: the group's base key; `key` adds the window start. */
    groupKey: text('group_key'),
    resolvedAt: text('resolved_at'),
    playbookVersion: integer('playbook_version'),
    /** sha256 of the playbook source pinned into the workflow at start. */
    playbookHash: text('playbook_hash'),
    alertCount: integer('alert_count').notNull().default(0),
    latestAlertId: text('latest_alert_id'),
    firstAlertAt: text('first_alert_at').notNull(),
    lastAlertAt: text('last_alert_at').notNull(),
    openedAt: text('opened_at').notNull(),
    /** Set by the workflow's first activity: proof the incident workflow is running. */
    startedAt: text('started_at'),
    updatedAt: text('updated_at').notNull(),
    closedAt: text('closed_at'),
    /**
     * Set when the playbook stopped, or a containment step failed, while the agent stays
     * contained: a human must decide what happens next (see workflows/needs-attention.ts).
     */
    needsAttentionAt: text('needs_attention_at'),
    needsAttentionReason: text('needs_attention_reason'),
    needsAttentionStep: text('needs_attention_step'),
  },
  (t) => [
    // At most one incident per key that is not closed: concurrent alerts for a key cannot open two.
    uniqueIndex('incidents_open_key')
      .on(t.key)
      .where(sql`status != 'closed'`),
    uniqueIndex('incidents_key_seq').on(t.key, t.seq),
    index('incidents_status').on(t.status, t.severity),
    index('incidents_group').on(t.groupKey, t.lastAlertAt),
    index('incidents_opened').on(t.openedAt, t.id),
  ],
);

export const alerts = pgTable(
  'alerts',
  {
    /** Monotonic: the incident workflow ignores a re-sent batch whose seq it has already seen. */
    seq: integer('seq').primaryKey().generatedByDefaultAsIdentity(),
    id: text('id').notNull().unique(),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    source: text('source').notNull(),
    format: text('format').notNull(),
    dedupKey: text('dedup_key').notNull(),
    title: text('title').notNull(),
    severity: text('severity').notNull(),
    status: text('status').notNull(),
    agentId: text('agent_id'),
    labels: text('labels').notNull(),
    details: text('details').notNull(),
    occurredAt: text('occurred_at').notNull(),
    receivedAt: text('received_at').notNull(),
    dispatchedAt: text('dispatched_at'),
  },
  (t) => [
    index('alerts_undispatched').on(t.dispatchedAt, t.seq),
    index('alerts_incident').on(t.incidentId, t.receivedAt),
  ],
);

export const timeline = pgTable(
  'timeline',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    at: text('at').notNull(),
    kind: text('kind').notNull(),
    actor: text('actor').notNull(),
    message: text('message').notNull(),
    data: text('data'),
    /** Idempotency key: an activity retried after a crash does not write the event twice. */
    eventKey: text('event_key'),
  },
  (t) => [
    index('timeline_incident').on(t.incidentId, t.id),
    uniqueIndex('timeline_event_key').on(t.eventKey),
  ],
);

/**
 * One row per (incident, step) action: the idempotency record. A retried activity finds the row
 * and returns its stored result instead of acting again. `status` is `started` while the action
 * runs, so a crash between acting and recording is visible and re-checked, not blindly repeated.
 */
export const actionRuns = pgTable(
  'action_runs',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id').notNull(),
    stepId: text('step_id').notNull(),
    action: text('action').notNull(),
    mode: text('mode').notNull(),
    status: text('status').notNull(),
    /** Params with secrets redacted. */
    params: text('params').notNull(),
    result: text('result'),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
  },
  (t) => [uniqueIndex('action_runs_step').on(t.incidentId, t.stepId)],
);

/** AI agent inventory. `status` is the kill switch the signed status endpoint serves. */
export const agents = pgTable('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  owner: text('owner').notNull(),
  team: text('team'),
  environment: text('environment').notNull(),
  /** Where the agent runs (deployment, runtime id, gateway route). */
  runtimeRef: text('runtime_ref'),
  status: text('status').notNull(),
  /** Bumped on every kill-switch change (status or blocked tools): runtimes reject an older one. */
  statusVersion: integer('status_version').notNull().default(1),
  statusChangedAt: text('status_changed_at').notNull(),
  /** The incident whose action last changed the kill-switch state (status or blocked tools). */
  statusIncident: text('status_incident'),
  /** Tools agent.tools.block took away from the agent (`firebreak.tool.allowed` is false for them). */
  blockedTools: text('blocked_tools').notNull().default('[]'),
  tools: text('tools').notNull(),
  permissions: text('permissions').notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** An agent's credentials, by provider reference (access key id, role name): never the secret. */
export const agentCredentials = pgTable(
  'agent_credentials',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id),
    provider: text('provider').notNull(),
    /** The provider's identifier: `<user>/<access key id>`, a role name, a token id. */
    reference: text('reference').notNull(),
    scopes: text('scopes').notNull(),
    status: text('status').notNull(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
  },
  (t) => [index('agent_credentials_agent').on(t.agentId)],
);

/**
 * Append-only audit log. Each row's `hash` is sha256 over the canonical JSON of its content and
 * `prevHash`, so any modified, removed or reordered row breaks the chain `audit verify` walks.
 */
export const auditLog = pgTable('audit_log', {
  seq: integer('seq').primaryKey(),
  at: text('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target').notNull(),
  incidentId: text('incident_id'),
  stepId: text('step_id'),
  /** Inputs with secrets redacted. */
  inputs: text('inputs').notNull(),
  outcome: text('outcome').notNull(),
  detail: text('detail').notNull(),
  durationMs: integer('duration_ms').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
  /** Ed25519 signature (base64) of `hash` by the audit key `kid`; null only when no key was given. */
  signature: text('signature'),
  kid: text('kid'),
});

/** Chain of custody: one row per artifact per incident; content lives in DATA_DIR/evidence/. */
export const evidence = pgTable(
  'evidence',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id').notNull(),
    sha256: text('sha256').notNull(),
    size: integer('size').notNull(),
    kind: text('kind').notNull(),
    mediaType: text('media_type').notNull(),
    /** Where the data came from (table, endpoint, database). */
    source: text('source').notNull(),
    /** The step (`step:<id>`) or person that collected it. */
    collectedBy: text('collected_by').notNull(),
    collectedAt: text('collected_at').notNull(),
    agentId: text('agent_id'),
  },
  (t) => [uniqueIndex('evidence_incident_sha').on(t.incidentId, t.sha256)],
);

/**
 * Where Firebreak's Slack messages live, so later activities update them instead of posting again:
 * `ref` is `channel` (the incident channel itself, ts empty), `summary`, `approval:<stepId>`,
 * `task:<stepId>`, `escalation:<key>` or `announce`. Also maps a channel back to its incident for
 * slash commands and reactions.
 */
export const slackMessages = pgTable(
  'slack_messages',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id').notNull(),
    ref: text('ref').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('slack_messages_ref').on(t.incidentId, t.ref),
    index('slack_messages_channel').on(t.channel, t.ref),
  ],
);

/** Who holds which response role (commander, scribe, …) in an incident; the latest assignment wins. */
export const incidentRoles = pgTable(
  'incident_roles',
  {
    incidentId: text('incident_id').notNull(),
    role: text('role').notNull(),
    userId: text('user_id').notNull(),
    assignedBy: text('assigned_by').notNull(),
    assignedAt: text('assigned_at').notNull(),
  },
  (t) => [uniqueIndex('incident_roles_role').on(t.incidentId, t.role)],
);

/** Projection of each playbook step's latest state, written by the interpreter's activities. */
export const playbookSteps = pgTable(
  'playbook_steps',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    stepId: text('step_id').notNull(),
    phase: text('phase').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    data: text('data'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('playbook_steps_step').on(t.incidentId, t.stepId)],
);

/**
 * The stored post-mortem of an incident: rendered from the facts above by activities/postmortem.ts.
 * `coversTimelineId` is the last timeline row it includes; a newer event makes it stale, and the
 * next read renders it again from current facts.
 */
export const postmortems = pgTable('postmortems', {
  incidentId: text('incident_id')
    .primaryKey()
    .references(() => incidents.id),
  revision: integer('revision').notNull(),
  generatedAt: text('generated_at').notNull(),
  generatedBy: text('generated_by').notNull(),
  coversTimelineId: integer('covers_timeline_id').notNull(),
  /** sha256 of `markdown`, so a copy posted elsewhere can be matched to its revision. */
  sha256: text('sha256').notNull(),
  markdown: text('markdown').notNull(),
  report: text('report').notNull(),
});

/**
 * Follow-up work declared by a playbook (its remediate/postmortem `manual_task` steps), tracked
 * with an owner. Status is read from the step's projection, so it is never stored twice.
 */
export const actionItems = pgTable(
  'action_items',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    stepId: text('step_id').notNull(),
    phase: text('phase').notNull(),
    title: text('title').notNull(),
    owner: text('owner').notNull(),
    checklist: text('checklist').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('action_items_step').on(t.incidentId, t.stepId)],
);

/** One row per drill run: the scenario it rehearses (its scripted outcomes and speed reach the
 * workflow through the outbox), and its result once scored. Drill incidents have mode 'drill'. */
export const drills = pgTable('drills', {
  /** Written just before the incident row (no FK), so the outbox never starts a drill without it. */
  incidentId: text('incident_id').primaryKey(),
  scenarioId: text('scenario_id').notNull(),
  scenario: text('scenario').notNull(),
  speed: doublePrecision('speed').notNull().default(1),
  auto: integer('auto').notNull().default(0),
  status: text('status').notNull(),
  startedAt: text('started_at').notNull(),
  finishedAt: text('finished_at'),
  result: text('result'),
});

/**
 * Alert signatures (`X-Firebreak-Signature`) already accepted, per source, until their timestamp
 * leaves the accepted window: a second request with the same signature is refused. Kept in the
 * DB, not in memory, so a restart or a second API process does not reopen the window.
 */
export const seenSignatures = pgTable(
  'seen_signatures',
  {
    sourceId: text('source_id').notNull(),
    /** sha256 (hex) of the HMAC that matched the source's secret. */
    digest: text('digest').notNull(),
    /** The signature's `t` (unix seconds). */
    signedAt: integer('signed_at').notNull(),
    /** Unix seconds after which the timestamp check refuses the signature anyway. */
    expiresAt: integer('expires_at').notNull(),
    firstSeenAt: text('first_seen_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.digest] }), index('seen_signatures_expiry').on(t.expiresAt)],
);

/** What the MCP gateway connector changed in a gateway for an agent (db/schema.ts). */
export const mcpGatewayChanges = pgTable(
  'mcp_gateway_changes',
  {
    agentId: text('agent_id').notNull(),
    gateway: text('gateway').notNull(),
    kind: text('kind').notNull(),
    ref: text('ref').notNull(),
    tool: text('tool'),
    version: integer('version').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.gateway, t.kind, t.ref] })],
);

/** Console sign-ins and sessions (db/schema.ts); expiry in epoch milliseconds, hence bigint. */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idSha256: text('id_sha256').primaryKey(),
    kind: text('kind').notNull(),
    data: text('data').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('console_sessions_expiry').on(t.expiresAt)],
);

/** Short-lived API tokens the console issues (db/schema.ts). */
export const issuedTokens = pgTable(
  'issued_tokens',
  {
    sha256: text('sha256').primaryKey(),
    user: text('user').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('issued_tokens_expiry').on(t.expiresAt)],
);

/** Tool-call decision events from OPA decision logs (db/schema.ts). */
export const opaDecisionEvents = pgTable(
  'opa_decision_events',
  {
    decisionId: text('decision_id').primaryKey(),
    sender: text('sender').notNull(),
    opaId: text('opa_id').notNull(),
    agentId: text('agent_id').notNull(),
    tool: text('tool').notNull(),
    callId: text('call_id'),
    outcome: text('outcome').notNull(),
    at: text('at').notNull(),
    receivedAt: text('received_at').notNull(),
    event: text('event').notNull(),
  },
  (t) => [index('opa_decision_events_agent_at').on(t.agentId, t.at)],
);

/** How far each OPA's decision log has reached Firebreak (db/schema.ts). */
export const opaDecisionSenders = pgTable(
  'opa_decision_senders',
  {
    sender: text('sender').notNull(),
    opaId: text('opa_id').notNull(),
    newestAt: text('newest_at').notNull(),
    lastUploadAt: text('last_upload_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sender, t.opaId] })],
);
