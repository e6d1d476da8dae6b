/**
 * Renders a post-mortem report as Markdown (served at `/v1/incidents/:id/postmortem.md`) and as a
 * short Slack mrkdwn summary (`renderPostmortemSummary`, for whoever posts it to the incident
 * channel). Pure functions of the report: the same report always renders to the same text, so the
 * stored hash identifies a revision.
 */
import type { PostmortemReport } from './postmortem';

/** `1h 2m 3s`; `—` when the incident has not reached that point. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const parts = [
    [Math.floor(s / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`);
  return shown.length > 0 ? shown.join(' ') : '0s';
}

/** Alert titles and messages are untrusted: no raw HTML reaches a Markdown viewer. */
const text = (v: unknown) =>
  String(v ?? '—')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
/** Table cells: pipes and newlines would break the row. */
const cell = (v: unknown) => text(v).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const table = (head: string[], rows: unknown[][]) =>
  rows.length === 0
    ? ['_None._']
    : [
        `| ${head.join(' | ')} |`,
        `|${head.map(() => '---').join('|')}|`,
        ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
      ];
const bullets = (items: string[], empty: string) =>
  items.length > 0 ? items.map((i) => `- ${text(i).replace(/\r?\n/g, ' ')}`) : [`- ${empty}`];

export function renderPostmortemMarkdown(r: PostmortemReport): string {
  const i = r.incident;
  const m = r.metrics;
  const waits = m.approval_wait_seconds.map(formatDuration).join(', ') || '—';
  const lines = [
    `# Post-mortem: ${text(i.title).replace(/\r?\n/g, ' ')}`,
    '',
    `Incident \`${i.id}\` · ${i.mode === 'drill' ? '**DRILL** · ' : ''}severity **${i.severity}** · status ${i.status} · ` +
      `opened ${i.opened_at}${i.closed_at ? ` · closed ${i.closed_at}` : ''}` +
      `${i.playbook ? ` · playbook ${i.playbook.id} v${i.playbook.version ?? '?'}` : ''}`,
    '',
    `_Generated ${r.generated_at} from the incident's stored records._`,
    '',
    '## Summary',
    '',
    text(r.summary),
    '',
    '## Severity and impact',
    '',
    `Severity: **${r.impact.severity}**.`,
    '',
    ...table(
      ['Agent', 'Name', 'Owner', 'Environment', 'Status', 'Credentials'],
      r.impact.affected_agents.map((a) => [
        a.id,
        a.name,
        a.owner,
        a.environment,
        a.status,
        a.credentials.map((c) => `${c.provider}:${c.reference} (${c.status})`).join(', ') || '—',
      ]),
    ),
    '',
    '## Response metrics',
    '',
    ...table(
      ['Metric', 'Value'],
      [
        ['Time to acknowledge', formatDuration(m.time_to_acknowledge_seconds)],
        ['Time to contain', formatDuration(m.time_to_contain_seconds)],
        ['Time to remediate', formatDuration(m.time_to_remediate_seconds)],
        ['Time to close', formatDuration(m.time_to_close_seconds)],
        ['Approval waits', waits],
      ],
    ),
    '',
    '## Alerts',
    '',
    `${r.alerts.total} alert(s), ${r.alerts.deduplicated} deduplicated into this incident; ` +
      `first ${r.alerts.first_at ?? '—'}, last ${r.alerts.last_at ?? '—'}.`,
    '',
    ...table(
      ['Title', 'Severity', 'Count'],
      r.alerts.by_title.map((a) => [a.title, a.severity, a.count]),
    ),
    '',
    '## Milestones',
    '',
    ...table(
      ['Milestone', 'At', 'By'],
      r.milestones.map((x) => [x.milestone, x.at, x.actor]),
    ),
    '',
    '## Actions',
    '',
    ...table(
      ['Step', 'Action', 'Outcome', 'Verified', 'Duration', 'Summary'],
      r.actions.map((a) => [
        a.step_id,
        a.action,
        a.status,
        a.verified === null ? '—' : a.verified ? 'yes' : 'no',
        formatDuration(a.duration_seconds),
        a.summary,
      ]),
    ),
    '',
    '### Connector failures',
    '',
    ...table(
      ['At', 'Action', 'Step', 'Outcome', 'Error'],
      r.connector_failures.map((f) => [f.at, f.action, f.step_id, f.outcome, f.error]),
    ),
    '',
    '## Approvals',
    '',
    ...table(
      ['Step', 'Decision', 'By', 'Via', 'Requested', 'Decided', 'Waited'],
      r.approvals.map((a) => [
        a.step_id,
        a.decision,
        a.actor,
        a.via,
        a.requested_at,
        a.decided_at,
        formatDuration(a.wait_seconds),
      ]),
    ),
    '',
    '## Escalations',
    '',
    ...bullets(
      r.escalations.map((e) => `${e.at} ${e.actor}: ${e.message}`),
      'None.',
    ),
    '',
    '## Notes',
    '',
    ...bullets(
      r.notes.map((n) => `${n.at} ${n.actor}: ${n.text}`),
      'None.',
    ),
    '',
    '## What the agent did',
    '',
    ...(r.agent_activity.some((e) => e.evidence)
      ? []
      : [
          '_No agent traces or gateway records were collected (see Evidence: kinds agent_traces and gateway_tool_calls)._',
          '',
        ]),
    ...table(
      ['Time', 'What', 'Detail', 'Outcome', 'Trace / span', 'Evidence'],
      r.agent_activity.map((e) => [
        e.at,
        e.what.replace(/_/g, ' '),
        e.detail,
        e.outcome ?? '',
        e.span_id ? `${e.trace_id} / ${e.span_id}` : '',
        e.evidence
          ? `[${e.evidence.kind} \`${e.evidence.sha256.slice(0, 16)}\`](/v1/incidents/${i.id}/evidence/${e.evidence.sha256})`
          : '',
      ]),
    ),
    '',
    '## Evidence',
    '',
    ...table(
      ['SHA-256', 'Kind', 'Size', 'Source', 'Collected by', 'Collected at', 'Audit entry'],
      r.evidence.map((e) => [
        `\`${e.sha256}\``,
        e.kind,
        e.size,
        e.source,
        e.collected_by,
        e.collected_at,
        e.audit ? `#${e.audit.seq} ${e.audit.outcome} \`${e.audit.hash.slice(0, 16)}\`` : '—',
      ]),
    ),
    '',
    '## Timeline',
    '',
    ...table(
      ['#', 'At', 'Event', 'Actor', 'Message'],
      r.timeline.map((e) => [e.id, e.at, e.kind, e.actor, e.message]),
    ),
    '',
    '## Action items',
    '',
    ...table(
      ['Task', 'Owner', 'Phase', 'Status', 'Completed by'],
      r.action_items.map((a) => [a.title, a.owner, a.phase, a.status, a.completed_by]),
    ),
    '',
    '## Root cause (to complete)',
    '',
    ...bullets(r.review.root_cause, 'No alert or evidence recorded.'),
    '',
    '## Contributing factors (to complete)',
    '',
    ...bullets(r.review.contributing_factors, 'No failed step, unverified action or escalation recorded.'),
    '',
    '## Follow-ups (to complete)',
    '',
    ...bullets(r.review.action_items, 'No action item declared by the playbook.'),
    '',
  ];
  return lines.join('\n');
}

/** A few lines of Slack mrkdwn: headline, key durations, open action items, link to the report. */
export function renderPostmortemSummary(r: PostmortemReport, reportUrl?: string): string {
  const m = r.metrics;
  const open = r.action_items.filter((a) => a.status === 'open');
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // Only Slack user ids become mentions; other owners (emails, team names) stay plain text.
  const who = (o: string) => (/^[UW][A-Z0-9_]{2,}$/.test(o) ? `<@${o}>` : esc(o));
  return [
    `*Post-mortem${r.incident.mode === 'drill' ? ' (drill)' : ''}: ${esc(r.incident.title)}* (${r.incident.severity}, ${r.incident.status})`,
    `Acknowledged ${formatDuration(m.time_to_acknowledge_seconds)} · contained ${formatDuration(m.time_to_contain_seconds)} · ` +
      `remediated ${formatDuration(m.time_to_remediate_seconds)} · closed ${formatDuration(m.time_to_close_seconds)}`,
    `${r.alerts.total} alert(s) · ${r.actions.length} action(s) · ${r.approvals.length} approval decision(s) · ${r.evidence.length} evidence item(s)`,
    open.length > 0
      ? `Open action items: ${open.map((a) => `${esc(a.title)} (${who(a.owner)})`).join('; ')}`
      : 'No open action items.',
    ...(reportUrl ? [`<${reportUrl}|Full report>`] : []),
  ].join('\n');
}
