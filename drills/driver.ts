/**
 * The drill driver, shared by the CLI, the API and the tests: opens the drill incident (mode
 * 'drill', playbook named by the scenario) through the normal intake store and outbox, plays the
 * injects at their (speed-compressed) offsets, lets the AutoResponder answer approvals and tasks
 * under --auto, waits for the playbook to finish or the time limit, closes the incident, and scores
 * it. The workflow runs every action in simulation: nothing here can reach a live connector.
 */
import crypto from 'node:crypto';
import { type AlertPlacement, incidentIdFor } from '../db/alerts';
import type { Db } from '../db/client';
import { drillRow, insertDrill } from '../db/drills';
import { getIncident } from '../db/incidents';
import { appendTimelineEvent } from '../db/timeline';
import type { Alert } from '../domain/alert';
import { systemClock } from '../domain/clock';
import { signDecision, type DecisionSigner } from '../domain/decision-proof';
import { durationMs } from '../domain/duration';
import type { Actor } from '../domain/incident';
import type { Outbox } from '../intake/outbox';
import { storeAlerts } from '../intake/store';
import { loadPlaybookDir } from '../playbooks/loader';
import { createSlackActivities, type SlackNotifierDeps } from '../slack/notifier';
import { queryIncident, updateIncident, type TemporalHandle } from '../temporal/client';
import { addNote, closeIncident, playbookState } from '../workflows/messages';
import { settleDrill, type AfterActionReport } from './report';
import { renderAfterActionSummary } from './report';
import { AutoResponder } from './responder';
import { type DrillAlert, type DrillScenario, type Inject } from './schema';

export interface DrillEnv {
  db: Db;
  /** Signs the facilitator's and the auto-responder's decisions (drills act through updates too). */
  decisions: DecisionSigner;
  temporal: TemporalHandle;
  outbox: Outbox;
  dataDir: string;
  /** Slack, when configured: the after-action digest is posted to the drill channel. */
  slack?: SlackNotifierDeps['slack'];
}

/** Who the drill driver acts as: the exercise's facilitator. */
const FACILITATOR: Actor = { id: 'facilitator', name: 'Drill facilitator', via: 'cli' };

export interface DrillOptions {
  auto?: boolean;
  speed?: number;
  /** Polling interval of the driver loop. */
  tickMs?: number;
}

export interface DrillOutcome {
  incidentId: string;
  passed: boolean;
  missed: string[];
  report: AfterActionReport;
  reportPath: string;
}

function toAlert(a: DrillAlert, scenario: DrillScenario, at: string): Alert {
  return {
    format: 'generic',
    source: a.source,
    origin: `drill:${scenario.id}`,
    dedupKey: `drill:${scenario.id}:${crypto.randomBytes(6).toString('hex')}`,
    title: a.title,
    severity: a.severity,
    status: 'firing',
    agentId: a.agent_id,
    labels: a.labels,
    details: a.details,
    occurredAt: at,
  };
}

/** Opens the drill incident and records the drill; the outbox starts its workflow. */
export async function openDrill(env: DrillEnv, scenario: DrillScenario, opts: DrillOptions): Promise<string> {
  if (!loadPlaybookDir().some((p) => p.id === scenario.playbook))
    throw new Error(`scenario ${scenario.id}: no playbook ${scenario.playbook}`);
  const key = `drill:${scenario.id}:${crypto.randomBytes(5).toString('hex')}`;
  const incidentId = incidentIdFor(key, 1);
  const at = new Date().toISOString();
  await insertDrill(env.db, {
    incidentId,
    scenarioId: scenario.id,
    scenario: scenario as unknown as Record<string, unknown>,
    speed: opts.speed ?? 1,
    auto: opts.auto ?? false,
    status: 'running',
    startedAt: at,
  });
  await storeAlerts(
    env.db,
    scenario.alerts.map((a) => ({ alert: toAlert(a, scenario, at), route: route(key, a, scenario) })),
    at,
  );
  env.outbox.kick();
  return incidentId;
}

function route(key: string, a: DrillAlert, scenario: DrillScenario): AlertPlacement {
  return {
    key,
    grouped: false,
    windowMs: undefined,
    playbookId: scenario.playbook,
    severity: a.severity,
    mode: 'drill',
    onResolved: 'annotate',
  };
}

/** Plays one inject; it is recorded at its scheduled time, which is when it happens in the exercise. */
async function applyInject(
  env: DrillEnv,
  scenario: DrillScenario,
  incidentId: string,
  inj: { i: Inject; n: number; due: number },
) {
  const { i, n } = inj;
  const key = `${incidentId}:inject:${i.id ?? n}`;
  const base = { incidentId, actor: 'facilitator', at: new Date(inj.due).toISOString() };
  await appendTimelineEvent(
    env.db,
    { ...base, kind: 'drill.inject', message: `Inject at ${i.at}: ${i.type}`, data: { ...i }, eventKey: key },
    base.at,
  );
  if (i.type === 'alert') {
    const keyRow = await incidentKeyOf(env, incidentId);
    await storeAlerts(
      env.db,
      [{ alert: toAlert(i.alert, scenario, base.at), route: route(keyRow, i.alert, scenario) }],
      base.at,
    );
    env.outbox.kick();
  } else if (i.type === 'message') {
    const note = { decisionId: key, actor: FACILITATOR, text: i.text };
    await updateIncident(
      env.temporal,
      incidentId,
      addNote,
      signDecision(env.decisions, incidentId, 'note', note),
    ).catch(() => undefined);
  } else if (i.type === 'event') {
    await appendTimelineEvent(
      env.db,
      { ...base, actor: i.actor, kind: i.kind, message: i.message || i.kind, eventKey: `${key}:event` },
      base.at,
    );
  }
}

async function incidentKeyOf(env: DrillEnv, incidentId: string): Promise<string> {
  const row = await getIncident(env.db, incidentId);
  if (!row) throw new Error(`no incident ${incidentId}`);
  return row.key;
}

/** Plays an opened drill to its end, then scores it and writes the report. */
export async function driveDrill(
  env: DrillEnv,
  scenario: DrillScenario,
  incidentId: string,
  opts: DrillOptions,
): Promise<DrillOutcome> {
  const speed = opts.speed ?? 1;
  const t0 = Date.parse((await drillRow(env.db, incidentId))?.startedAt ?? new Date().toISOString());
  const responder = new AutoResponder(scenario, incidentId, speed, env.decisions);
  const limit = t0 + durationMs(scenario.time_limit) / speed;
  // Injects run on their own timers, in order, so a slow query or update never delays them.
  let played: Promise<void> = Promise.resolve();
  let fired = 0;
  const timers = scenario.injects.map((i, n) => {
    const inj = { i, n, due: t0 + durationMs(i.at) / speed };
    return setTimeout(
      () => {
        fired += 1;
        played = played
          .then(() => applyInject(env, scenario, incidentId, inj))
          .catch((err: unknown) => {
            responder.problems.push(
              `inject ${i.id ?? n}: ${err instanceof Error ? err.message : String(err)}`,
            );
          });
      },
      Math.max(0, inj.due - Date.now()),
    );
  });
  try {
    for (;;) {
      const state = await queryIncident(env.temporal, incidentId, playbookState).catch(() => undefined);
      // The exercise ends when the playbook has ended AND the whole MSEL has been played: a fast
      // playbook must not cut off injects (e.g. "a commander is assigned") still to come.
      if (state && state.status !== 'running' && fired === timers.length) break;
      if (Date.now() > limit) break;
      if (state && opts.auto) await responder.tick(env.temporal, state);
      await new Promise((r) => setTimeout(r, opts.tickMs ?? 100));
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    await played;
  }
  const close = { decisionId: `${incidentId}:close`, actor: FACILITATOR, reason: 'drill finished' };
  await updateIncident(
    env.temporal,
    incidentId,
    closeIncident,
    signDecision(env.decisions, incidentId, 'close', close),
  ).catch(() => undefined);
  const { report, reportPath, missed } = await settleDrill(
    env.db,
    env.dataDir,
    incidentId,
    responder.problems,
  );
  if (env.slack) {
    // A Slack failure never fails the drill: the report is on disk and in the API either way.
    await createSlackActivities({ db: env.db, clock: systemClock, slack: env.slack })
      .slackPostReport({ incidentId, ref: 'after-action', text: renderAfterActionSummary(report) })
      .catch(() => undefined);
  }
  return { incidentId, passed: missed.length === 0, missed, report, reportPath };
}

export async function runDrill(
  env: DrillEnv,
  scenario: DrillScenario,
  opts: DrillOptions = {},
): Promise<DrillOutcome> {
  const incidentId = await openDrill(env, scenario, opts);
  return driveDrill(env, scenario, incidentId, opts);
}
