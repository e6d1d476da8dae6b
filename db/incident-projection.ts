/**
 * The incident workflow's projection writes: its start (playbook pinned on the incident row),
 * each phase and milestone, each playbook step's latest state, a needs-attention mark, and its close, each with its
 * timeline event in the same transaction. A batch of them runs in one transaction (one fsync).
 * Every write is idempotent: step rows are upserts and the timeline's event keys drop repeats.
 * The step rows are read back here too.
 */
import { and, count, eq, isNull } from 'drizzle-orm';
import { insertAuditEntry, recordAuditHead, type AuditContent } from './audit';
import { auditSignerOf } from './audit-signer';
import { inTransaction, type Db } from './client';
import { IncidentNotFound } from './errors';
import { incidents, playbookSteps } from './schema';
import { insertTimelineEvent, type TimelineEvent } from './timeline';

export type PlaybookStepRow = typeof playbookSteps.$inferSelect;

/** The latest state of each playbook step of an incident. */
export async function playbookStepsOf(db: Db, incidentId: string): Promise<PlaybookStepRow[]> {
  return db.select().from(playbookSteps).where(eq(playbookSteps.incidentId, incidentId));
}

/** How many incidents have this step in this status (benchmarks watch a fleet converge). */
export async function countStepsIn(db: Db, stepId: string, status: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(playbookSteps)
    .where(and(eq(playbookSteps.stepId, stepId), eq(playbookSteps.status, status)));
  return row?.n ?? 0;
}

export interface StepWrite {
  incidentId: string;
  stepId: string;
  phase: string;
  kind: string;
  status: string;
  actor: string;
  message: string;
  at: string;
  data?: Record<string, unknown>;
  /** Distinguishes repeated transitions to the same status (e.g. each approval vote). */
  seq?: number;
  /** Scopes the event key: a playbook attached later re-runs steps its predecessor had. */
  eventScope?: string;
}

export interface StartWrite {
  incidentId: string;
  phase: string;
  at: string;
  playbook?: { id: string; version: number; hash: string };
}

export interface PhaseWrite {
  incidentId: string;
  phase: string;
  milestone?: string;
  actor: string;
  at: string;
  eventScope?: string;
}

/** A playbook attached to a running incident: pinned on the incident row, as at open. */
export interface PlaybookAttachedWrite {
  incidentId: string;
  playbook: { id: string; version: number; hash: string };
  /** The playbook it replaced (triage), if any. */
  replaced?: { id: string; version: number; hash: string };
  actor: string;
  at: string;
}

/** The incident needs a human: containment holds but the playbook cannot go on by itself. */
export interface NeedsAttentionWrite {
  incidentId: string;
  reason: string;
  /** The step whose failure caused it, if one did. */
  stepId?: string;
  actor: string;
  at: string;
}

export type ProjectionWriteInput =
  | { kind: 'recordNeedsAttention'; input: NeedsAttentionWrite }
  | { kind: 'recordPlaybookAttached'; input: PlaybookAttachedWrite }
  | { kind: 'recordStep'; input: StepWrite }
  | { kind: 'recordPhase'; input: PhaseWrite }
  | { kind: 'recordTimeline'; input: TimelineEvent }
  | { kind: 'recordIncidentStarted'; input: StartWrite };

/** A playbook step changed state: upsert its row and add the transition to the timeline. */
async function writeStep(db: Db, r: StepWrite, now: string): Promise<void> {
  await db
    .insert(playbookSteps)
    .values({
      incidentId: r.incidentId,
      stepId: r.stepId,
      phase: r.phase,
      kind: r.kind,
      status: r.status,
      data: r.data ?? null,
      updatedAt: r.at,
    })
    .onConflictDoUpdate({
      target: [playbookSteps.incidentId, playbookSteps.stepId],
      set: { status: r.status, data: r.data ?? null, updatedAt: r.at },
    });
  await insertTimelineEvent(
    db,
    {
      incidentId: r.incidentId,
      kind: `step.${r.status}`,
      actor: r.actor,
      message: r.message,
      data: { stepId: r.stepId, kind: r.kind, phase: r.phase, ...(r.data ?? {}) },
      eventKey: `${r.incidentId}:${r.eventScope ? `${r.eventScope}:` : ''}step:${r.stepId}:${r.status}${r.seq === undefined ? '' : `:${r.seq}`}`,
      at: r.at,
    },
    now,
  );
}

/** Entering a phase, or reaching its milestone (assessed, contained, …, closed). */
async function writePhase(db: Db, input: PhaseWrite, now: string): Promise<void> {
  if (!input.milestone) {
    await db
      .update(incidents)
      .set({ phase: input.phase, updatedAt: now })
      .where(eq(incidents.id, input.incidentId));
  }
  await insertTimelineEvent(
    db,
    {
      incidentId: input.incidentId,
      kind: input.milestone ? 'milestone' : 'phase.started',
      actor: input.actor,
      message: input.milestone ? `Milestone: ${input.milestone}` : `Phase ${input.phase} started`,
      data: { phase: input.phase, ...(input.milestone ? { milestone: input.milestone } : {}) },
      eventKey: `${input.incidentId}:${input.eventScope ? `${input.eventScope}:` : ''}${input.milestone ? `milestone:${input.milestone}` : `phase:${input.phase}`}`,
      at: input.at,
    },
    now,
  );
}

/** The workflow started: pin its playbook on the incident row and note it in the timeline. */
async function writeIncidentStarted(db: Db, input: StartWrite, now: string): Promise<void> {
  const pinned = input.playbook
    ? {
        playbookId: input.playbook.id,
        playbookVersion: input.playbook.version,
        playbookHash: input.playbook.hash,
      }
    : {};
  const updated = await db
    .update(incidents)
    .set({ startedAt: input.at, phase: input.phase, updatedAt: now, ...pinned })
    .where(eq(incidents.id, input.incidentId))
    .returning({ id: incidents.id });
  if (updated.length === 0)
    throw new IncidentNotFound(`incident ${input.incidentId} has no row: intake must create it`);
  await insertTimelineEvent(
    db,
    {
      incidentId: input.incidentId,
      kind: 'incident.started',
      actor: 'firebreak',
      message: input.playbook
        ? `Incident workflow started in phase ${input.phase} with playbook ${input.playbook.id} v${input.playbook.version}`
        : `Incident workflow started in phase ${input.phase}`,
      data: input.playbook ? { playbook: input.playbook } : undefined,
      eventKey: `${input.incidentId}:started`,
      at: input.at,
    },
    now,
  );
}

/** Marks the incident as needing attention (the first reason stays) and notes it in the timeline. */
async function writeNeedsAttention(db: Db, input: NeedsAttentionWrite, now: string): Promise<void> {
  await db
    .update(incidents)
    .set({
      needsAttentionAt: input.at,
      needsAttentionReason: input.reason,
      needsAttentionStep: input.stepId ?? null,
      updatedAt: now,
    })
    .where(and(eq(incidents.id, input.incidentId), isNull(incidents.needsAttentionAt)));
  await insertTimelineEvent(
    db,
    {
      incidentId: input.incidentId,
      kind: 'incident.needs_attention',
      actor: input.actor,
      message: `Needs attention${input.stepId ? ` (step ${input.stepId})` : ''}: ${input.reason}`,
      data: { reason: input.reason, ...(input.stepId ? { stepId: input.stepId } : {}) },
      eventKey: `${input.incidentId}:needs_attention:${input.stepId ?? 'playbook'}`,
      at: input.at,
    },
    now,
  );
}

/** A playbook was attached: the row pins it (id, version, hash) and the timeline says so. */
async function writePlaybookAttached(db: Db, input: PlaybookAttachedWrite, now: string): Promise<void> {
  const { id, version, hash } = input.playbook;
  await db
    .update(incidents)
    .set({ playbookId: id, playbookVersion: version, playbookHash: hash, updatedAt: now })
    .where(eq(incidents.id, input.incidentId));
  await insertTimelineEvent(
    db,
    {
      incidentId: input.incidentId,
      kind: 'playbook.pinned',
      actor: input.actor,
      message: `Playbook ${id} v${version} pinned${input.replaced ? ` in place of ${input.replaced.id}` : ''}`,
      data: { playbook: input.playbook, ...(input.replaced ? { replaced: input.replaced } : {}) },
      eventKey: `${input.incidentId}:playbook_pinned:${id}:${hash}`,
      at: input.at,
    },
    now,
  );
}

async function writeOne(db: Db, w: ProjectionWriteInput, now: string): Promise<void> {
  if (w.kind === 'recordNeedsAttention') await writeNeedsAttention(db, w.input, now);
  else if (w.kind === 'recordPlaybookAttached') await writePlaybookAttached(db, w.input, now);
  else if (w.kind === 'recordStep') await writeStep(db, w.input, now);
  else if (w.kind === 'recordPhase') await writePhase(db, w.input, now);
  else if (w.kind === 'recordIncidentStarted') await writeIncidentStarted(db, w.input, now);
  else await insertTimelineEvent(db, w.input, now);
}

/** One projection write (its row change and timeline event together). */
export async function recordProjection(db: Db, w: ProjectionWriteInput, now: string): Promise<void> {
  await inTransaction(db, (tx) => writeOne(tx, w, now));
}

/** Several projection writes in order, in one transaction. */
export async function recordProjections(db: Db, writes: ProjectionWriteInput[], now: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const w of writes) await writeOne(tx, w, now);
  });
}

/** The incident is closed: its row says so, the timeline has the reason, the audit log the actor. */
export async function recordIncidentClosed(
  db: Db,
  input: { incidentId: string; actor: string; reason: string },
  at: string,
  audit: AuditContent,
): Promise<void> {
  const signer = auditSignerOf(db);
  const row = await inTransaction(
    db,
    async (tx) => {
      await tx
        .update(incidents)
        .set({ status: 'closed', phase: 'closed', closedAt: at, updatedAt: at })
        .where(eq(incidents.id, input.incidentId));
      const added = await insertTimelineEvent(
        tx,
        {
          incidentId: input.incidentId,
          kind: 'incident.closed',
          actor: input.actor,
          message: `Incident closed: ${input.reason}`,
          eventKey: `${input.incidentId}:closed`,
        },
        at,
      );
      // A retried close finds its event written: the close was audited with it.
      return added ? insertAuditEntry(tx, signer, audit) : undefined;
    },
    'immediate',
  );
  if (row) recordAuditHead(db, row);
}
