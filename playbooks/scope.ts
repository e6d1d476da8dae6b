/**
 * The names a playbook expression can read, shared by the interpreter (which builds the scope)
 * and the linter (which rejects references to anything else): `incident.*`, `alert.*`,
 * `agent.*`, `inputs.<declared>` and `steps.<earlier step>.<field>`.
 */
export const INCIDENT_FIELDS = [
  'id',
  'key',
  'title',
  'severity',
  'source',
  'mode',
  'agent_id',
  'opened_at',
  'requested_by',
] as const;
export const ALERT_FIELDS = ['title', 'severity', 'source', 'labels'] as const;
export const AGENT_FIELDS = ['id'] as const;
export const STEP_FIELDS = [
  'status',
  'ok',
  'verified',
  'output',
  'summary',
  'approved',
  'approvals',
  'completed_by',
  'branch',
] as const;
