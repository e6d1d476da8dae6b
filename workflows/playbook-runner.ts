/**
 * A whole playbook run: its phases in order, each entered, run and closed with its milestone (a
 * phase reached in an earlier run is not run again), then the outcome on the timeline. Background
 * steps (`wait: false`) are awaited before the post-mortem is written and before the run ends. On
 * abort, background steps and running actions finish first, then the compensations run in reverse,
 * except containment (only an explicit release undoes it); if containment holds, the incident is
 * marked as needing attention and the escalation target is paged.
 */
import { condition } from '@temporalio/workflow';
import type { Phase } from '../domain/incident';
import { MILESTONES, PHASES } from '../domain/phases';
import { compensateAll } from './compensation';
import { runSteps } from './interpreter';
import { markNeedsAttention } from './needs-attention';
import { nowIso, type PlaybookContext } from './playbook-context';
import { PlaybookAborted } from './playbook-errors';
import { writePostmortem } from './postmortem-report';

/** Runs every phase in order; on abort, runs the compensations (but containment's) in reverse order. */
export async function runPlaybook(ctx: PlaybookContext): Promise<void> {
  const { run } = ctx;
  let outcome: 'completed' | 'aborted';
  try {
    for (const phase of PHASES) await runPhase(ctx, phase);
    if (ctx.background.length > 0) await Promise.all(ctx.background);
    outcome = 'completed';
    run.phase = 'done';
  } catch (err) {
    if (!(err instanceof PlaybookAborted)) throw err;
    await unwindAbort(ctx, err);
    outcome = 'aborted';
  }
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: `playbook.${outcome}`,
    actor: run.abortRequested?.actor ?? ctx.actor,
    message:
      outcome === 'aborted'
        ? `Playbook ${ctx.pinned.id} aborted: ${run.abortReason}`
        : `Playbook ${ctx.pinned.id} completed`,
    eventKey: `${ctx.incidentId}:playbook:${outcome}`,
    at: nowIso(),
  });
  // Set last, once every queued projection is written, so whoever sees the outcome in a query
  // also finds the whole run in the timeline.
  await condition(() => ctx.idle());
  run.status = outcome;
}

/** One phase: entered, its steps, its milestone (a phase already reached is not run again). */
async function runPhase(ctx: PlaybookContext, phase: Phase): Promise<void> {
  const steps = ctx.pinned.definition.phases[phase];
  if (!steps || ctx.run.milestones.includes(phase)) return;
  ctx.run.phase = phase;
  ctx.onPhase(phase);
  await ctx.project('recordPhase', { incidentId: ctx.incidentId, phase, actor: ctx.actor, at: nowIso() });
  if (phase === 'postmortem') {
    // The post-mortem reads the evidence: a background snapshot still running is part of it.
    if (ctx.background.length > 0) await Promise.all(ctx.background);
    await writePostmortem(ctx);
  }
  await runSteps(ctx, steps, phase);
  ctx.run.milestones.push(phase);
  await ctx.project('recordPhase', {
    incidentId: ctx.incidentId,
    phase,
    milestone: MILESTONES[phase],
    actor: ctx.actor,
    at: nowIso(),
  });
}

/**
 * After an abort: background steps and running actions finish, then everything done is undone
 * except containment, which only an explicit release undoes. Containment still holding means a
 * human must take over: the incident is marked and the escalation target paged.
 */
async function unwindAbort(ctx: PlaybookContext, err: PlaybookAborted): Promise<void> {
  ctx.run.abortReason = err.reason;
  if (ctx.background.length > 0) await Promise.all(ctx.background);
  // Actions still running in parallel branches finish first, so their undo is not missed.
  await condition(() => ctx.idle());
  const requested = ctx.run.abortRequested;
  const release = requested?.release === true;
  const why = `playbook aborted: ${err.reason}`;
  await compensateAll(ctx, release, why, release ? requested!.actor : ctx.actor);
  if (ctx.contained()) await markNeedsAttention(ctx, `playbook aborted: ${err.reason}`, requested?.stepId);
  // Containers and waits cut short by the abort do not stay "running" in the query. A release
  // approval outlives the playbook: it is decided after an abort too (release.ts).
  const releases = new Set((ctx.run.releases ?? []).map((r) => r.step.id));
  for (const s of Object.values(ctx.run.steps)) {
    if (releases.has(s.id)) continue;
    if (s.status === 'running' || s.status === 'waiting')
      Object.assign(s, { status: 'failed', error: 'aborted' });
  }
}
