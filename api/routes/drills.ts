/**
 * The drill API: `POST /v1/drills` (respond scope) opens a drill incident for a scenario (JSON, or
 * YAML text in `scenario_yaml`) and plays it in this process with the same driver as the CLI;
 * `GET /v1/drills/:id/report` (read) is the after-action report as JSON; `POST
 * /v1/drills/:id/judgements` (respond) records a facilitator's verdict on an expectation. A
 * scenario that nests too deeply, or YAML whose aliases expand past MAX_YAML_ALIASES (an alias
 * bomb), is a 400 naming the field before anything renders or lints it.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { dataDirOf, type Db } from '../../db/client';
import { finishDrill } from '../../db/drills';
import { BoundedJsonObject, jsonDepthAtMost, MAX_JSON_DEPTH } from '../../domain/alert';
import type { DecisionSigner } from '../../domain/decision-proof';
import { driveDrill, openDrill } from '../../drills/driver';
import { lintDrillSource } from '../../drills/lint';
import { buildReport, settleDrill } from '../../drills/report';
import { DrillNotFound, judgeExpectation } from '../../drills/store';
import type { Outbox } from '../../intake/outbox';
import type { SlackNotifierDeps } from '../../slack/notifier';
import type { TemporalHandle } from '../../temporal/client';
import { requireScope, type ApiEnv } from '../auth';
import { apiError, refuseNulCharacters, zodErrorBody } from '../errors';

export const DrillRequest = z.strictObject({
  scenario: BoundedJsonObject.optional(),
  scenario_yaml: z.string().optional(),
  auto: z.boolean().default(false),
  speed: z.number().positive().max(10_000).default(1),
});

/** yaml's own default: how many alias expansions a scenario may use before it counts as a bomb. */
export const MAX_YAML_ALIASES = 100;

/**
 * Why the YAML text cannot be taken as a scenario before it is linted: aliases that expand past
 * MAX_YAML_ALIASES, or a value nested past MAX_JSON_DEPTH. Syntax errors are the linter's to report.
 */
function yamlProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = parseDocument(text).toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError) return `aliases expand more than ${MAX_YAML_ALIASES} times`;
    throw err;
  }
  return jsonDepthAtMost(value) ? undefined : `nests deeper than ${MAX_JSON_DEPTH} levels`;
}

export const Judgement = z.strictObject({
  expectation: z.string().min(1),
  verdict: z.enum(['met', 'missed']),
  note: z.string().optional(),
});

export interface DrillDeps {
  db: Db;
  temporal: TemporalHandle;
  outbox: Outbox;
  log: Logger;
  slackNotifier?: SlackNotifierDeps['slack'];
  decisions: DecisionSigner;
}

const drillEnv = (deps: DrillDeps) => ({
  decisions: deps.decisions,
  db: deps.db,
  temporal: deps.temporal,
  outbox: deps.outbox,
  dataDir: dataDirOf(deps.db),
  slack: deps.slackNotifier,
});

/**
 * Lints a scenario's YAML, opens its drill incident and plays it in this process (the API and the
 * console both start drills here); 400 naming the first problem of a scenario that does not lint.
 */
export async function launchDrill(
  deps: DrillDeps,
  source: string,
  opts: { auto: boolean; speed: number },
): Promise<string> {
  const env = drillEnv(deps);
  const { problems, scenario } = lintDrillSource(source);
  if (!scenario || problems.length > 0) {
    const p = problems[0];
    throw apiError(400, 'invalid_request', `scenario: ${p?.message ?? 'invalid'}`, 'scenario');
  }
  const incidentId = await openDrill(env, scenario, opts);
  driveDrill(env, scenario, incidentId, opts).catch((err: unknown) => {
    deps.log.error({ err, incidentId }, 'drill failed');
    return finishDrill(deps.db, incidentId, 'error', { error: String(err) }, new Date().toISOString());
  });
  return incidentId;
}

export function drillRoutes(deps: DrillDeps) {
  const app = new Hono<ApiEnv>();
  const env = drillEnv(deps);

  app.post('/', requireScope('respond'), async (c) => {
    const body = DrillRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return c.json(zodErrorBody(body.error), 400);
    refuseNulCharacters(body.data);
    const source =
      body.data.scenario_yaml ?? (body.data.scenario ? stringify(body.data.scenario) : undefined);
    if (!source) throw apiError(400, 'invalid_request', 'scenario or scenario_yaml is required', 'scenario');
    const yamlError =
      body.data.scenario_yaml === undefined ? undefined : yamlProblem(body.data.scenario_yaml);
    if (yamlError) throw apiError(400, 'invalid_request', `scenario_yaml: ${yamlError}`, 'scenario_yaml');
    const incidentId = await launchDrill(deps, source, { auto: body.data.auto, speed: body.data.speed });
    return c.json(
      { incident_id: incidentId, mode: 'drill', report_url: `/v1/drills/${incidentId}/report` },
      202,
    );
  });

  app.get('/:id/report', requireScope('read'), async (c) => {
    const report = await buildReport(deps.db, c.req.param('id'));
    if (!report) throw apiError(404, 'not_found', `no drill ${c.req.param('id')}`, 'id');
    return c.json(report);
  });

  app.post('/:id/judgements', requireScope('respond'), async (c) => {
    const body = Judgement.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return c.json(zodErrorBody(body.error), 400);
    refuseNulCharacters(body.data);
    const incidentId = c.req.param('id');
    try {
      await judgeExpectation(deps.db, { incidentId, ...body.data, actor: c.var.user.id });
    } catch (err) {
      if (err instanceof DrillNotFound) throw apiError(404, 'not_found', err.message, 'id');
      throw err;
    }
    const { report, reportPath } = await settleDrill(deps.db, env.dataDir, incidentId);
    return c.json({ expectations: report.expectations, passed: report.passed, report_path: reportPath });
  });

  return app;
}
