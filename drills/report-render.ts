/**
 * Renders an after-action report: the full Markdown document written next to the drill's data,
 * and `renderAfterActionSummary`, a short Slack mrkdwn digest for the drill channel (posting it
 * is the Slack app's job; this module does no I/O).
 */
import type { ExpectationResult } from './scoring';

export interface AfterActionReport {
  incidentId: string;
  scenario: { id: string; title: string; playbook: string };
  mode: string;
  speed: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  passed: boolean;
  expectations: ExpectationResult[];
  timeline: { offset: string; at: string; kind: string; actor: string; message: string }[];
  approvals: {
    stepId: string;
    requestedAt: string;
    decidedAt?: string;
    latency?: string;
    outcome: string;
    by: string[];
  }[];
  actors: { actor: string; actions: number; kinds: string[] }[];
  simulatedActions: {
    stepId: string;
    action: string;
    mode: string;
    params: Record<string, unknown>;
    status: string;
    summary?: string;
  }[];
  /** Each evidence step: the kind and the sources it would have been collected from. */
  evidence: {
    stepId: string;
    kind: string;
    sources: { id: string; description: string; setting: string }[];
    unsupported?: string;
  }[];
  improvements: string[];
}
const mark = (e: ExpectationResult) =>
  e.verdict === 'met' ? 'MET' : e.verdict === 'missed' ? 'MISSED' : 'PENDING';
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: AfterActionReport): string {
  const out: string[] = [
    `# After-action report: ${r.scenario.title}`,
    '',
    `- Drill incident: \`${r.incidentId}\` (mode ${r.mode}, playbook \`${r.scenario.playbook}\`, scenario \`${r.scenario.id}\`)`,
    `- Started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}; speed ×${r.speed}`,
    `- Result: **${r.passed ? 'PASSED' : 'FAILED'}** (${r.expectations.filter((e) => e.verdict === 'met').length}/${r.expectations.length} expectations met)`,
    '',
    '## Expectations',
    '',
    '| Expectation | Verdict | Detail |',
    '| --- | --- | --- |',
    ...r.expectations.map((e) => `| ${cell(`${e.id}: ${e.description}`)} | ${mark(e)} | ${cell(e.detail)} |`),
    '',
    '## Approval latencies',
    '',
    ...(r.approvals.length === 0
      ? ['No approvals were requested.']
      : r.approvals.map(
          (a) =>
            `- \`${a.stepId}\`: requested ${a.requestedAt}, ${a.outcome}${a.latency ? ` after ${a.latency}` : ''}${a.by.length ? ` by ${a.by.join(', ')}` : ''}`,
        )),
    '',
    '## Who did what',
    '',
    ...r.actors.map((a) => `- ${a.actor}: ${a.actions} event(s) (${a.kinds.join(', ')})`),
    '',
    '## What the playbook would have changed in production',
    '',
    ...(r.simulatedActions.length === 0
      ? ['No actions ran.']
      : r.simulatedActions.map(
          (a) =>
            `- \`${a.stepId}\` ${a.action} (${a.mode}, ${a.status}) with \`${JSON.stringify(a.params)}\``,
        )),
    '',
    '## Evidence that would have been collected',
    '',
    ...(r.evidence.length === 0
      ? ['No evidence step ran.']
      : r.evidence.map((e) => {
          const from = e.sources.map((s) => `${s.id} (${s.description}; ${s.setting})`).join('; ');
          return `- \`${e.stepId}\` ${e.kind}: ${from || 'no source'}${e.unsupported ? ` — not available: ${e.unsupported}` : ''}`;
        })),
    '',
    '## Improvement items',
    '',
    ...(r.improvements.length === 0
      ? ['None: every expectation was met and no step failed.']
      : r.improvements.map((i) => `- [ ] ${i}`)),
    '',
    '## Timeline',
    '',
    '| Offset | Kind | Actor | Message |',
    '| --- | --- | --- | --- |',
    ...r.timeline.map((t) => `| ${t.offset} | ${t.kind} | ${cell(t.actor)} | ${cell(t.message)} |`),
    '',
  ];
  return out.join('\n');
}

/** A short Slack mrkdwn summary of the report, for the drill channel. */
export function renderAfterActionSummary(r: AfterActionReport): string {
  const met = r.expectations.filter((e) => e.verdict === 'met').length;
  const lines = [
    `*Drill ${r.passed ? 'passed' : 'failed'}: ${r.scenario.title}* (\`${r.incidentId}\`, playbook \`${r.scenario.playbook}\`)`,
    `${met}/${r.expectations.length} expectations met`,
    ...r.expectations.filter((e) => e.verdict !== 'met').map((e) => `• :x: ${e.description}: ${e.detail}`),
    ...r.improvements
      .slice(0, 5)
      .filter((i) => !i.startsWith('Expectation'))
      .map((i) => `• ${i}`),
  ];
  return lines.join('\n');
}
