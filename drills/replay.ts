/**
 * `drill replay <incident>`: turns a past incident into a drill scenario. Its stored alerts become
 * the opening alert and timed alert injects (at their original offsets), its playbook (the one it
 * named, or the one its first alert selects) is rehearsed, and the drill expects that playbook to
 * complete. The replay runs as a drill, so nothing acts on production.
 */
import type { Db } from '../db/client';
import { alertsOfIncident } from '../db/incident-alerts';
import { getIncident } from '../db/incidents';
import { loadPlaybookDir } from '../playbooks/loader';
import { selectPlaybook } from '../playbooks/select';
import { DrillScenario, type DrillAlert } from './schema';

export async function scenarioFromIncident(db: Db, incidentId: string): Promise<DrillScenario> {
  const inc = await getIncident(db, incidentId);
  if (!inc) throw new Error(`no incident ${incidentId} in this DATA_DIR`);
  const rows = await alertsOfIncident(db, incidentId);
  const first = rows[0];
  if (!first) throw new Error(`incident ${incidentId} has no stored alerts to replay`);
  const playbooks = loadPlaybookDir();
  const playbook =
    playbooks.find((p) => p.id === inc.playbookId) ??
    selectPlaybook(playbooks, {
      severity: inc.severity,
      source: inc.source,
      title: inc.title,
      labels: first.labels,
    });
  if (!playbook) throw new Error(`no playbook applies to ${incidentId}: name one with a routing rule`);
  const toAlert = (r: typeof first): DrillAlert => ({
    title: r.title,
    severity: r.severity as DrillAlert['severity'],
    source: r.source,
    ...(r.agentId ? { agent_id: r.agentId } : {}),
    labels: r.labels,
    details: r.details,
  });
  const t0 = Date.parse(first.receivedAt);
  return DrillScenario.parse({
    id: `replay-${incidentId}`,
    title: `Replay of ${incidentId}: ${inc.title}`,
    playbook: playbook.id,
    alerts: [toAlert(first)],
    injects: rows.slice(1).map((r, n) => ({
      id: `alert-${n + 2}`,
      at: `${Math.max(0, Math.round((Date.parse(r.receivedAt) - t0) / 1000))}s`,
      type: 'alert',
      alert: toAlert(r),
    })),
    expectations: [{ id: 'completed', type: 'outcome', outcome: 'completed' }],
  });
}
