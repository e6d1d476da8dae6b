/**
 * The state one playbook run shares between its steps, and the behaviour over it: the pinned
 * playbook and its step index, the run state carried across continue-as-new, activities in
 * flight (held back once the workflow suspends for continue-as-new or close, so no action is left
 * half-recorded across runs), projection writes, abort requests, and deadlines in workflow time
 * (a drill's `speed` divides every playbook duration).
 */
import { condition } from '@temporalio/workflow';
import type { IncidentStart, Phase, PinnedPlaybook } from '../domain/incident';
import { PlaybookAborted } from './playbook-errors';
import {
  durationMs,
  holdsContainment,
  indexRun,
  type CompensationEntry,
  type IndexedStep,
  type PlaybookRun,
} from './playbook-model';
import type { ProjectionInput, ProjectionKind, ProjectionQueue } from './projection-queue';

export const nowIso = () => new Date().toISOString();

/** A drill's speed factor, when it has one that changes anything. */
function drillSpeed(input: IncidentStart): number | undefined {
  const speed = input.mode === 'drill' ? input.speed : undefined;
  return speed === undefined || speed === 1 || !(speed > 0) ? undefined : speed;
}

export class PlaybookContext {
  readonly index: Map<string, IndexedStep>;
  /** Set before continue-as-new or close: no new activity or projection starts. */
  suspending = false;
  /** Steps running in the background (`wait: false`); awaited before the post-mortem and the end. */
  readonly background: Promise<void>[] = [];
  private inFlight = 0;

  constructor(
    readonly input: IncidentStart,
    readonly pinned: PinnedPlaybook,
    readonly run: PlaybookRun,
    private readonly projections: ProjectionQueue,
    readonly onPhase: (phase: Phase) => void,
    /**
     * Set for a playbook attached to a running incident: its timeline event keys are scoped by
     * it, so steps and phases it shares with the playbook it replaced are recorded again.
     */
    readonly eventScope?: string,
  ) {
    this.index = indexRun(pinned.definition, run);
  }

  /** Who the timeline names for what the playbook does on its own. */
  get actor(): string {
    return `playbook:${this.pinned.id}`;
  }

  get incidentId(): string {
    return this.input.incidentId;
  }

  /** Runs an activity of a step, counted in flight; none starts once the run is suspending. */
  async activity<T>(fn: () => Promise<T>): Promise<T> {
    if (this.suspending) await condition(() => false);
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
    }
  }

  /** Queues a projection write of the run (see ProjectionQueue). */
  async project<K extends ProjectionKind>(kind: K, input: ProjectionInput<K>): Promise<void> {
    if (this.suspending) await condition(() => false);
    this.projections.record(kind, this.scoped(kind, input));
  }

  /** The write with its event key scoped to this run (see `eventScope`). */
  private scoped<K extends ProjectionKind>(kind: K, input: ProjectionInput<K>): ProjectionInput<K> {
    const scope = this.eventScope;
    if (!scope) return input;
    if (kind === 'recordTimeline') {
      const e = input as ProjectionInput<'recordTimeline'>;
      const prefix = `${this.incidentId}:`;
      const key = e.eventKey.startsWith(prefix)
        ? `${prefix}${scope}:${e.eventKey.slice(prefix.length)}`
        : `${scope}:${e.eventKey}`;
      return { ...e, eventKey: key } as ProjectionInput<K>;
    }
    if (kind === 'recordStep' || kind === 'recordPhase')
      return { ...input, eventScope: scope } as ProjectionInput<K>;
    return input;
  }

  /** Nothing in flight and nothing queued: the run may continue-as-new or end. */
  idle(): boolean {
    return this.inFlight === 0 && this.projections.idle();
  }

  /**
   * Records the first abort request (later ones keep its reason) and returns the error to throw.
   * `stepId` names the failed step that caused it, if one did.
   */
  abort(reason: string, actor: string, stepId?: string): PlaybookAborted {
    this.run.abortRequested ??= { actor, reason, ...(stepId ? { stepId } : {}) };
    return new PlaybookAborted(this.run.abortRequested.reason, this.run.abortRequested.actor);
  }

  /** Some containment action succeeded and has not been released. */
  contained(): boolean {
    return this.run.compensations.some((c) => this.holds(c));
  }

  /** Whether this compensation would undo a containment (see holdsContainment). */
  holds(c: CompensationEntry): boolean {
    return holdsContainment(c, this.index);
  }

  throwIfAborted(): void {
    const a = this.run.abortRequested;
    if (a) throw new PlaybookAborted(a.reason, a.actor);
  }

  /** A playbook duration in workflow milliseconds: divided by the drill's speed factor. */
  scaledMs(d: string): number {
    const speed = drillSpeed(this.input);
    if (speed === undefined) return durationMs(d);
    return Math.max(1, Math.round(durationMs(d) / speed));
  }

  /** The absolute deadline (ISO) a playbook duration from now gives. */
  deadlineAfter(d: string): string {
    return new Date(Date.now() + this.scaledMs(d)).toISOString();
  }

  /**
   * Waits for `done` until the absolute `deadline` (ISO) if any, or an abort (thrown).
   * True when done, false on timeout.
   */
  async waitUntil(done: () => boolean, deadline: string | undefined): Promise<boolean> {
    const wake = () => done() || this.run.abortRequested !== undefined;
    if (deadline === undefined) {
      await condition(wake);
    } else {
      const remaining = Date.parse(deadline) - Date.now();
      if (remaining > 0) await condition(wake, remaining);
    }
    this.throwIfAborted();
    return done();
  }
}
