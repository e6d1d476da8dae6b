/**
 * `/incident status`: where the incident stands, from the DB projection, the workflow's live
 * state and, when it runs a playbook, the playbook's phase, pending approvals and open tasks.
 */
import { rolesOf } from '../../../db/incident-roles';
import { getIncident } from '../../../db/incidents';
import type { PlaybookState } from '../../../domain/incident';
import { queryIncident } from '../../../temporal/client';
import { incidentState, playbookState } from '../../../workflows/messages';
import type { SlackDeps } from '../../context';
import { mentionUser, safeText } from '../../escape';

function playbookLines(pb: PlaybookState): string[] {
  return [
    `Playbook \`${safeText(pb.id, 80)}\` · ${safeText(pb.status, 20)} · phase ${safeText(pb.phase, 40)}`,
    ...pb.pendingApprovals.map(
      (a) => `:raised_hand: waiting for approval: ${safeText(a.prompt, 200)} (\`${safeText(a.stepId, 80)}\`)`,
    ),
    ...pb.openTasks.map(
      (t) => `:ballot_box_with_check: open task: ${safeText(t.task, 200)} (\`${safeText(t.stepId, 80)}\`)`,
    ),
  ];
}

export async function statusText(deps: SlackDeps, incidentId: string): Promise<string> {
  const inc = await getIncident(deps.db, incidentId);
  if (!inc) return 'This incident no longer exists.';
  const live = await queryIncident(deps.temporal, incidentId, incidentState).catch(() => undefined);
  // With a playbook: its phase, pending approvals and open tasks.
  const pb = await queryIncident(deps.temporal, incidentId, playbookState).catch(() => undefined);
  const roles = await rolesOf(deps.db, incidentId);
  const lines = [
    `*${safeText(inc.id, 80)}* ${inc.mode === 'drill' ? '[DRILL] ' : ''}${safeText(inc.title, 300)}`,
    `Severity ${inc.severity} · status ${live?.status ?? inc.status} · phase ${safeText(live?.phase ?? inc.phase, 40)} · ${live?.alertCount ?? inc.alertCount} alert(s)`,
    `Agent: ${inc.agentId ? `\`${safeText(inc.agentId, 200)}\`` : 'unknown'}`,
    ...(pb ? playbookLines(pb) : []),
    roles.length > 0
      ? `Roles: ${roles.map((r) => `${r.role} ${mentionUser(r.userId)}`).join(', ')}`
      : 'Roles: none assigned',
  ];
  return lines.join('\n');
}
