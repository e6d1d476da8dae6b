/**
 * What a stored drill run (db/drills.ts) means: its scenario, and the scripted outcomes and speed
 * factor that the outbox puts into a drill incident's IncidentStart, so they reach the
 * interpreter; and a facilitator's verdicts on its expectations.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { drillRow, type DrillRow } from '../db/drills';
import { appendTimelineEvent } from '../db/timeline';
import type { ScriptedOutcome } from '../domain/actions';
import type { IncidentStart } from '../domain/incident';
import type { DrillScenario } from './schema';

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
export async function drillStartOptions(db: Db, incidentId: string): Promise<Partial<IncidentStart>> {
  const row = await drillRow(db, incidentId);
  if (!row) return {};
  const scripted = scriptedOutcomes(scenarioOf(row));
  return {
    ...(Object.keys(scripted).length > 0 ? { scripted } : {}),
    ...(row.speed !== 1 ? { speed: row.speed } : {}),
  };
}

/** Records a facilitator's verdict on an expectation as a `drill.judged` timeline event. */
export async function judgeExpectation(
  db: Db,
  j: { incidentId: string; expectation: string; verdict: 'met' | 'missed'; actor: string; note?: string },
): Promise<void> {
  const row = await drillRow(db, j.incidentId);
  if (!row) throw new DrillNotFound(`no drill ${j.incidentId}`);
  if (!scenarioOf(row).expectations.some((e) => e.id === j.expectation))
    throw new DrillNotFound(`drill ${j.incidentId} has no expectation ${j.expectation}`);
  const at = new Date().toISOString();
  await appendTimelineEvent(
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
