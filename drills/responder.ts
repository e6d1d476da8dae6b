/**
 * The scripted responder `--auto` plays: given the playbook's pending approvals and open tasks (the
 * `playbookState` query), it sends the scenario's decisions (or the default) once each step has
 * waited the scripted delay, compressed by the speed factor. Decision ids are derived from the
 * incident, step and responder, so a resent update is a no-op in the workflow.
 */
import { signDecision, type DecisionSigner } from '../domain/decision-proof';
import { durationMs } from '../domain/duration';
import type { Actor, PlaybookState } from '../domain/incident';
import { updateIncident, type TemporalHandle } from '../temporal/client';
import { completeTask, decideApproval } from '../workflows/messages';
import { type DrillScenario, type Responder } from './schema';

export class AutoResponder {
  private readonly handled = new Set<string>();
  readonly problems: string[] = [];

  constructor(
    private readonly scenario: DrillScenario,
    private readonly incidentId: string,
    private readonly speed: number,
    private readonly signer: DecisionSigner,
  ) {}

  private actor(id: string, fallback?: { roles: string[]; groups: string[] }): Actor {
    const r: Responder | undefined = this.scenario.responders.find((x) => x.id === id);
    return {
      id,
      name: r?.name ?? id,
      roles: r?.roles ?? fallback?.roles ?? [],
      groups: r?.groups ?? fallback?.groups ?? [],
      via: 'cli',
    };
  }

  private due(state: PlaybookState, stepId: string, after: string): boolean {
    const started = state.steps.find((s) => s.id === stepId)?.startedAt;
    if (!started) return true;
    return Date.now() >= Date.parse(started) + durationMs(after) / this.speed;
  }

  private async send(key: string, fn: () => Promise<unknown>): Promise<void> {
    if (this.handled.has(key)) return;
    this.handled.add(key);
    try {
      await fn();
    } catch (err) {
      this.problems.push(`${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async tick(temporal: TemporalHandle, state: PlaybookState): Promise<void> {
    const def = this.scenario.auto_default;
    for (const a of state.pendingApprovals) {
      const scripted = this.scenario.decisions.find((d) => d.step === a.stepId);
      if (!scripted && def === 'none') continue;
      const decision = scripted?.decision ?? (def === 'reject' ? 'reject' : 'approve');
      if (decision === 'complete' || !this.due(state, a.stepId, scripted?.after ?? '0s')) continue;
      const fallback = { roles: a.approvers.roles, groups: a.approvers.groups };
      const count = decision === 'approve' ? a.minApprovals : 1;
      const by = scripted?.by ?? Array.from({ length: count }, (_, i) => `drill-responder-${i + 1}`);
      for (const id of by.slice(0, count)) {
        const decisionId = `${this.incidentId}:${a.stepId}:${id}`;
        await this.send(decisionId, () =>
          updateIncident(
            temporal,
            this.incidentId,
            decideApproval,
            signDecision(this.signer, this.incidentId, 'approval', {
              decisionId,
              stepId: a.stepId,
              decision,
              actor: this.actor(id, fallback),
              reason: 'drill',
            }),
          ),
        );
      }
    }
    for (const t of state.openTasks) {
      const scripted = this.scenario.decisions.find((d) => d.step === t.stepId);
      if (!scripted && def === 'none') continue;
      if (!this.due(state, t.stepId, scripted?.after ?? '0s')) continue;
      const id = scripted?.by[0] ?? 'drill-responder-1';
      const decisionId = `${this.incidentId}:${t.stepId}:${id}`;
      await this.send(decisionId, () =>
        updateIncident(
          temporal,
          this.incidentId,
          completeTask,
          signDecision(this.signer, this.incidentId, 'task', {
            decisionId,
            stepId: t.stepId,
            actor: this.actor(id),
            note: 'drill',
          }),
        ),
      );
    }
  }
}
