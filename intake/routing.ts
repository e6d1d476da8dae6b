/**
 * Routing: the config file's rules, first match wins, decide for each normalized alert its
 * incident key, playbook, severity override, mode and what a resolved event does. Without a
 * matching rule the key is source + dedup key. A rule with `group_by` keys on a label's value
 * instead (alerts about one agent share an incident), optionally only within a time window.
 * Alerts reach it with their agent id resolved once (resolveAgentId): `agent_id` in a rule's
 * match or group_by is the same id the playbook's actions act on.
 */
import type { RouteRule } from '../app/config-file';
import type { AlertPlacement } from '../db/alerts';
import type { Alert } from '../domain/alert';
import type { IncidentMode } from '../domain/incident';

/** Where an alert goes (see AlertPlacement), and which rule sent it there. */
export interface Route extends AlertPlacement {
  rule: string | undefined;
}

export function defaultKey(alert: Pick<Alert, 'source' | 'dedupKey'>): string {
  return `${alert.source}:${alert.dedupKey}`;
}

/** `agent_id` is the alert's resolved agent (domain/alert.ts resolveAgentId), never a second copy. */
function labelValue(alert: Alert, label: string): string | undefined {
  return label === 'agent_id' ? alert.agentId : alert.labels[label];
}

function matches(rule: RouteRule, alert: Alert): boolean {
  const m = rule.match;
  if (m.source && m.source !== alert.source) return false;
  if (m.format && m.format !== alert.format) return false;
  if (m.severity && m.severity !== alert.severity) return false;
  return Object.entries(m.labels).every(([k, v]) => labelValue(alert, k) === v);
}

export function routeAlert(rules: RouteRule[], alert: Alert, defaultMode: IncidentMode = 'live'): Route {
  const index = rules.findIndex((r) => matches(r, alert));
  const rule = rules[index];
  const name = rule ? (rule.name ?? `rule-${index}`) : undefined;
  const groupValue = rule?.group_by ? labelValue(alert, rule.group_by) : undefined;
  return {
    key:
      rule?.group_by && groupValue !== undefined
        ? `${alert.source}:group:${name}:${rule.group_by}=${groupValue}`
        : defaultKey(alert),
    grouped: groupValue !== undefined,
    windowMs: groupValue !== undefined ? rule?.window : undefined,
    playbookId: rule?.playbook,
    severity: rule?.severity ?? alert.severity,
    mode: rule?.mode ?? defaultMode,
    onResolved: rule?.on_resolved ?? 'annotate',
    rule: name,
  };
}
