/**
 * Chooses the playbook an incident follows, from what its first alert says: a playbook's `match`
 * names severities, sources, labels (all must equal) and title words (any); every criterion it
 * names must hold. The most specific match wins (most criteria), then the lowest id, so the
 * choice is stable. No match: the caller runs the triage playbook (TRIAGE_PLAYBOOK_ID), which
 * matches nothing itself (its `match` is empty).
 */
import type { Severity } from '../domain/alert';
import type { PinnedPlaybook } from '../domain/playbook';

/** The playbook an incident runs when no other matches: announce, snapshot, ask which applies. */
export const TRIAGE_PLAYBOOK_ID = 'triage';

export interface MatchSubject {
  severity: Severity;
  source: string;
  title: string;
  labels: Record<string, string>;
}

function specificity(p: PinnedPlaybook, s: MatchSubject): number | undefined {
  const m = p.definition.match;
  let score = 0;
  if (m.severities) {
    if (!m.severities.includes(s.severity)) return undefined;
    score++;
  }
  if (m.sources) {
    if (!m.sources.includes(s.source)) return undefined;
    score++;
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    if (s.labels[k] !== v) return undefined;
    score++;
  }
  if (m.title_contains) {
    const title = s.title.toLowerCase();
    if (!m.title_contains.some((w) => title.includes(w.toLowerCase()))) return undefined;
    score++;
  }
  return score === 0 ? undefined : score;
}

export function selectPlaybook(
  playbooks: PinnedPlaybook[],
  subject: MatchSubject,
): PinnedPlaybook | undefined {
  let best: { p: PinnedPlaybook; score: number } | undefined;
  for (const p of [...playbooks].sort((a, b) => a.id.localeCompare(b.id))) {
    const score = specificity(p, subject);
    if (score !== undefined && (!best || score > best.score)) best = { p, score };
  }
  return best?.p;
}
