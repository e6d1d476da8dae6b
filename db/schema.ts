/**
 * The stored data, in one module: the source of truth for SQLite tables (drizzle-kit generates
 * migrations from it) and, through drizzle-zod where it fits, for API shapes.
 *
 * - `incidents` is the projection of incident workflows that the API reads.
 * - `alerts` is the intake outbox: a row is written before the 202 is sent, and `dispatchedAt`
 *   is set once its incident workflow has been told; undispatched rows are replayed on start.
 * - `timeline` is every event of an incident, in order.
 * - `agents`, `agent_credentials` are the AI agent inventory (credentials by reference only).
 * - `audit_log` is the append-only, hash-chained record of every connector action.
 * - `evidence` is the chain-of-custody record of each content-addressed artifact.
 * - `playbook_steps` is the latest state of each playbook step of an incident.
 * - `postmortems`, `action_items` are each incident's generated report and its tracked follow-ups.
 * - `drills` is each tabletop drill run: its scenario and its score.
 * - `seen_signatures` remembers the alert signatures accepted within their window (no replays).
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const incidents = sqliteTable(
  'incidents',
  {
    id: text('id').primaryKey(),
    /** The dedup/grouping key the incident was opened for (source + key). */
    key: text('key').notNull(),
    seq: integer('seq').notNull(),
    workflowId: text('workflow_id').notNull(),
    source: text('source').notNull(),
    title: text('title').notNull(),
    severity: text('severity', { enum: ['critical', 'high', 'medium', 'low', 'info'] }).notNull(),
    status: text('status', { enum: ['open', 'resolved', 'closed'] }).notNull(),
    mode: text('mode', { enum: ['live', 'drill'] }).notNull(),
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

export const alerts = sqliteTable(
  'alerts',
  {
    /** Monotonic: the incident workflow ignores a re-sent batch whose seq it has already seen. */
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull().unique(),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    source: text('source').notNull(),
    format: text('format', { enum: ['generic', 'alertmanager', 'pagerduty'] }).notNull(),
    dedupKey: text('dedup_key').notNull(),
    title: text('title').notNull(),
    severity: text('severity').notNull(),
    status: text('status', { enum: ['firing', 'resolved'] }).notNull(),
    agentId: text('agent_id'),
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    occurredAt: text('occurred_at').notNull(),
    receivedAt: text('received_at').notNull(),
    dispatchedAt: text('dispatched_at'),
  },
  (t) => [
    index('alerts_undispatched').on(t.dispatchedAt, t.seq),
    index('alerts_incident').on(t.incidentId, t.receivedAt),
  ],
);

export const timeline = sqliteTable(
  'timeline',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    at: text('at').notNull(),
    kind: text('kind').notNull(),
    actor: text('actor').notNull(),
    message: text('message').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
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
export const actionRuns = sqliteTable(
  'action_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    incidentId: text('incident_id').notNull(),
    stepId: text('step_id').notNull(),
    action: text('action').notNull(),
    mode: text('mode', { enum: ['live', 'drill'] }).notNull(),
    status: text('status', { enum: ['started', 'succeeded', 'failed'] }).notNull(),
    /** Params with secrets redacted. */
    params: text('params', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    result: text('result', { mode: 'json' }).$type<Record<string, unknown>>(),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
  },
  (t) => [uniqueIndex('action_runs_step').on(t.incidentId, t.stepId)],
);

/** AI agent inventory. `status` is the kill switch the signed status endpoint serves. */
export const agents = sqliteTable('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  owner: text('owner').notNull(),
  team: text('team'),
  environment: text('environment').notNull(),
  /** Where the agent runs (deployment, runtime id, gateway route). */
  runtimeRef: text('runtime_ref'),
  status: text('status', { enum: ['enabled', 'disabled'] }).notNull(),
  /** Bumped on every kill-switch change (status or blocked tools): runtimes reject an older one. */
  statusVersion: integer('status_version').notNull().default(1),
  statusChangedAt: text('status_changed_at').notNull(),
  /** The incident whose action last changed the kill-switch state (status or blocked tools). */
  statusIncident: text('status_incident'),
  /** Tools agent.tools.block took away from the agent (`firebreak.tool.allowed` is false for them). */
  blockedTools: text('blocked_tools', { mode: 'json' }).$type<string[]>().notNull().default([]),
  tools: text('tools', { mode: 'json' }).$type<{ name: string; description?: string }[]>().notNull(),
  permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** An agent's credentials, by provider reference (access key id, role name): never the secret. */
export const agentCredentials = sqliteTable(
  'agent_credentials',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id),
    provider: text('provider', { enum: ['aws_iam', 'postgres', 'firebreak', 'http'] }).notNull(),
    /** The provider's identifier: `<user>/<access key id>`, a role name, a token id. */
    reference: text('reference').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['active', 'inactive'] }).notNull(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
  },
  (t) => [index('agent_credentials_agent').on(t.agentId)],
);

/**
 * Append-only audit log. Each row's `hash` is sha256 over the canonical JSON of its content and
 * `prevHash`, so any modified, removed or reordered row breaks the chain `audit verify` walks.
 */
export const auditLog = sqliteTable('audit_log', {
  seq: integer('seq').primaryKey(),
  at: text('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target').notNull(),
  incidentId: text('incident_id'),
  stepId: text('step_id'),
  /** Inputs with secrets redacted. */
  inputs: text('inputs', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  outcome: text('outcome').notNull(),
  detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  durationMs: integer('duration_ms').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
  /** Ed25519 signature (base64) of `hash` by the audit key `kid`; null only when no key was given. */
  signature: text('signature'),
  kid: text('kid'),
});

/** Chain of custody: one row per artifact per incident; content lives in DATA_DIR/evidence/. */
export const evidence = sqliteTable(
  'evidence',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
export const slackMessages = sqliteTable(
  'slack_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
export const incidentRoles = sqliteTable(
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
export const playbookSteps = sqliteTable(
  'playbook_steps',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    stepId: text('step_id').notNull(),
    phase: text('phase').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('playbook_steps_step').on(t.incidentId, t.stepId)],
);

/**
 * The stored post-mortem of an incident: rendered from the facts above by activities/postmortem.ts.
 * `coversTimelineId` is the last timeline row it includes; a newer event makes it stale, and the
 * next read renders it again from current facts.
 */
export const postmortems = sqliteTable('postmortems', {
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
  report: text('report', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
});

/**
 * Follow-up work declared by a playbook (its remediate/postmortem `manual_task` steps), tracked
 * with an owner. Status is read from the step's projection, so it is never stored twice.
 */
export const actionItems = sqliteTable(
  'action_items',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    incidentId: text('incident_id')
      .notNull()
      .references(() => incidents.id),
    stepId: text('step_id').notNull(),
    phase: text('phase').notNull(),
    title: text('title').notNull(),
    owner: text('owner').notNull(),
    checklist: text('checklist', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('action_items_step').on(t.incidentId, t.stepId)],
);

/** One row per drill run: the scenario it rehearses (its scripted outcomes and speed reach the
 * workflow through the outbox), and its result once scored. Drill incidents have mode 'drill'. */
export const drills = sqliteTable('drills', {
  /** Written just before the incident row (no FK), so the outbox never starts a drill without it. */
  incidentId: text('incident_id').primaryKey(),
  scenarioId: text('scenario_id').notNull(),
  scenario: text('scenario', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  speed: real('speed').notNull().default(1),
  auto: integer('auto', { mode: 'boolean' }).notNull().default(false),
  status: text('status', { enum: ['running', 'passed', 'failed', 'error'] }).notNull(),
  startedAt: text('started_at').notNull(),
  finishedAt: text('finished_at'),
  result: text('result', { mode: 'json' }).$type<Record<string, unknown>>(),
});

/**
 * Alert signatures (`X-Firebreak-Signature`) already accepted, per source, until their timestamp
 * leaves the accepted window: a second request with the same signature is refused. Kept in the
 * DB, not in memory, so a restart or a second API process does not reopen the window.
 */
export const seenSignatures = sqliteTable(
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

/**
 * What the MCP gateway connector changed in a gateway for an agent, so that undo restores exactly
 * that: `user_deactivated` (ref: the gateway user it deactivated) and `tool_removed` (ref: the tool
 * id it took out of the agent's virtual server). A row exists only while the change is in force.
 */
export const mcpGatewayChanges = sqliteTable(
  'mcp_gateway_changes',
  {
    agentId: text('agent_id').notNull(),
    gateway: text('gateway').notNull(),
    kind: text('kind', { enum: ['user_deactivated', 'tool_removed'] }).notNull(),
    ref: text('ref').notNull(),
    /** The Firebreak tool name a `tool_removed` row stands for. */
    tool: text('tool'),
    version: integer('version').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.gateway, t.kind, t.ref] })],
);

/**
 * Console sign-ins (api/console/): `session` rows are signed-in browsers, `login` rows are sign-ins
 * under way (OIDC state, nonce and PKCE verifier until the IdP calls back). The cookie carries a
 * random id; only its sha256 is stored, so a copy of the DB signs nobody in.
 */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    idSha256: text('id_sha256').primaryKey(),
    kind: text('kind', { enum: ['session', 'login'] }).notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
    /** Epoch ms after which the row is refused (and deleted on the next sweep). */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expiry').on(t.expiresAt)],
);

/**
 * Short-lived API tokens the console issues to a signed-in person (api/console/tokens): the bearer
 * of one acts as that person, with that sign-in's `amr` and `auth_time` (MFA step-up).
 */
export const issuedTokens = sqliteTable(
  'issued_tokens',
  {
    sha256: text('sha256').primaryKey(),
    user: text('user', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('issued_tokens_expiry').on(t.expiresAt)],
);

/**
 * The gateway's record of an agent's tool calls, from OPA decision logs (api/routes/opa-decision-logs.ts):
 * each tool-call decision event as OPA uploaded it (`event`, verbatim JSON), with the fields the
 * evidence query reads. `decision_id` is unique, so OPA's retried uploads are stored once. `at` is
 * OPA's decision time, UTC with nine fractional digits (compares as text).
 */
export const opaDecisionEvents = sqliteTable(
  'opa_decision_events',
  {
    decisionId: text('decision_id').primaryKey(),
    /** The decision-log token (config `opa_decision_logs.senders`) the upload came with. */
    sender: text('sender').notNull(),
    /** OPA's instance id (`labels.id`); '' when the event names none. */
    opaId: text('opa_id').notNull(),
    agentId: text('agent_id').notNull(),
    tool: text('tool').notNull(),
    callId: text('call_id'),
    outcome: text('outcome', { enum: ['allowed', 'refused'] }).notNull(),
    at: text('at').notNull(),
    receivedAt: text('received_at').notNull(),
    event: text('event').notNull(),
  },
  (t) => [index('opa_decision_events_agent_at').on(t.agentId, t.at)],
);

/**
 * How far each OPA's decision log has reached Firebreak: the newest decision time among every
 * event it uploaded (tool calls or not) and when its last upload came. Evidence says up to when
 * the gateway record is complete.
 */
export const opaDecisionSenders = sqliteTable(
  'opa_decision_senders',
  {
    sender: text('sender').notNull(),
    opaId: text('opa_id').notNull(),
    newestAt: text('newest_at').notNull(),
    lastUploadAt: text('last_upload_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sender, t.opaId] })],
);
