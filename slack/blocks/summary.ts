/**
 * The incident summary card: the one message at the top of an incident channel that Firebreak
 * keeps current with chat.update. Everything that came from an alert is escaped.
 */
import { link, mentionUser, safeText } from '../escape';
import { context, fields, type SlackMessage } from './types';

export interface SummaryView {
  incidentId: string;
  title: string;
  severity: string;
  mode: 'live' | 'drill';
  status: string;
  phase: string;
  agentId: string | null;
  alertCount: number;
  playbookId: string | null;
  pendingApprovals: number;
  roles: { role: string; userId: string }[];
  incidentUrl: string | undefined;
  temporalUrl: string | undefined;
}

const SEVERITY_ICON: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

export function summaryCard(v: SummaryView): SlackMessage {
  const icon = SEVERITY_ICON[v.severity] ?? ':white_circle:';
  const drill = v.mode === 'drill' ? ' [DRILL]' : '';
  const headline = `${icon} *${safeText(v.severity.toUpperCase(), 20)}${drill}* ${safeText(v.title, 300)}`;
  const links = [
    v.incidentUrl ? link(v.incidentUrl, 'Incident API') : undefined,
    v.temporalUrl ? link(v.temporalUrl, 'Temporal UI') : undefined,
  ].filter((x): x is string => x !== undefined);
  const roles = v.roles.map((r) => `${safeText(r.role, 40)}: ${mentionUser(r.userId)}`).join(', ');
  return {
    text: `${v.mode === 'drill' ? '[DRILL] ' : ''}${safeText(v.severity, 20)} incident ${safeText(v.incidentId, 80)}: ${safeText(v.title, 300)}`,
    blocks: [
      { type: 'section', block_id: 'summary_head', text: { type: 'mrkdwn', text: headline } },
      fields([
        ['Incident', `\`${safeText(v.incidentId, 80)}\``],
        ['Status', `${safeText(v.status, 20)} · phase ${safeText(v.phase, 40)}`],
        ['Agent', v.agentId ? `\`${safeText(v.agentId, 200)}\`` : '_unknown_'],
        ['Alerts', String(v.alertCount)],
        ['Playbook', v.playbookId ? `\`${safeText(v.playbookId, 100)}\`` : '_none yet_'],
        ['Pending approvals', String(v.pendingApprovals)],
      ]),
      ...(roles ? [context(`Roles: ${roles}`)] : []),
      ...(links.length > 0 ? [context(links.join(' · '))] : []),
    ],
  };
}

/** The one-line announcement in SLACK_ANNOUNCE_CHANNEL pointing at the incident channel. */
export function announcement(v: SummaryView, channelId: string): SlackMessage {
  const text = `${v.mode === 'drill' ? ':test_tube: Drill' : ':rotating_light: Incident'} ${safeText(v.incidentId, 80)} (${safeText(v.severity, 20)}): ${safeText(v.title, 300)} → <#${channelId}>`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
