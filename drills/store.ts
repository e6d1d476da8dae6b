/**
 * The drills table: one row per drill run, written when the drill incident is opened. The outbox
 * reads it when it starts a drill incident's workflow, so the scenario's scripted outcomes and the
 * speed factor reach the interpreter in IncidentStart; the driver writes the result when scored.
 */
import { eq } from 'drizzle-orm';
import crypto from 'node:crypto';
import path from 'node:path';
import { appendTimelineEvent } from '../activities/incidents';
import type { Db } from '../db/client';
import { drills } from '../db/schema';
import type { ScriptedOutcome } from '../domain/actions';
import type { IncidentStart } from '../domain/incident';
import type { DrillScenario } from './schema';

export type DrillRow = typeof drills.$inferSelect;

export function drillRow(db: Db, incidentId: string): DrillRow | undefined {
  return db.select().from(drills).where(eq(drills.incidentId, incidentId)).get();
}

export function scenarioOf(row: DrillRow): DrillScenario {
  return row.scenario as unknown as DrillScenario;
}

/** Every `outcome` inject of the scenario, by step id (a later inject for a step wins). */
export function scriptedOutcomes(scenario: DrillScenario): Record<string, ScriptedOutcome> {
  const out: Record<string, ScriptedOutcome> = {};
  for (const i of scenario.injects) if (i.type === 'outcome') out[i.step] = i.outcome;
  return out;
}

/** What a drill incident's workflow start adds to IncidentStart; {} for any other incident. */
export function drillStartExtras(db: Db, incidentId: string): Partial<IncidentStart> {
  const row = drillRow(db, incidentId);
  if (!row) return {};
  const scripted = scriptedOutcomes(scenarioOf(row));
  return {
    ...(Object.keys(scripted).length > 0 ? { scripted } : {}),
    ...(row.speed !== 1 ? { speed: row.speed } : {}),
  };
}

export function finishDrill(
  db: Db,
  incidentId: string,
  status: 'passed' | 'failed' | 'error',
  result: Record<string, unknown>,
  at: string,
): void {
  db.update(drills).set({ status, result, finishedAt: at }).where(eq(drills.incidentId, incidentId)).run();
}

/** The data dir the DB lives in (reports are written next to it). */
export function dataDirOf(db: Db): string {
  return path.dirname(db.$client.name);
}

/** Records a facilitator's verdict on an expectation as a `drill.judged` timeline event. */
export function judgeExpectation(
  db: Db,
  j: { incidentId: string; expectation: string; verdict: 'met' | 'missed'; actor: string; note?: string },
): void {
  const row = drillRow(db, j.incidentId);
  if (!row) throw new DrillNotFound(`no drill ${j.incidentId}`);
  if (!scenarioOf(row).expectations.some((e) => e.id === j.expectation))
    throw new DrillNotFound(`drill ${j.incidentId} has no expectation ${j.expectation}`);
  const at = new Date().toISOString();
  appendTimelineEvent(
    db,
    {
      incidentId: j.incidentId,
      kind: 'drill.judged',
      actor: j.actor,
      message: j.note ?? `${j.expectation} ${j.verdict}`,
      data: { expectation: j.expectation, verdict: j.verdict },
      eventKey: `${j.incidentId}:judged:${j.expectation}:${crypto.randomBytes(4).toString('hex')}`,
      at,
    },
    at,
  );
}

export class DrillNotFound extends Error {}
