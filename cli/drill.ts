/**
 * `drill` commands: `lint <file…>` (file:line:col per problem), `run <file> [--auto] [--speed N]`
 * (on the Firebreak at FIREBREAK_URL, or an embedded stack when none answers; prints the report
 * path and exits 0 only when every expectation is met), `judge <incident> <expectation> met|missed`
 * (a facilitator's verdict) and `replay <incident>` (a past incident's alerts, re-run as a drill).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../app/config';
import { closeDb } from '../db/client';
import { lintDrillSource, loadScenarioFile } from '../drills/lint';
import { scenarioFromIncident } from '../drills/replay';
import { renderMarkdown, reportPathFor, settleDrill, type AfterActionReport } from '../drills/report';
import type { DrillScenario } from '../drills/schema';
import { judgeExpectation } from '../drills/store';
import { CliError } from './cli-error';
import { openCliDb } from './db';
import { describeTiming, followTimeline, ProgressView } from './drill-progress';
import { reachable, runEmbedded } from './drill-stack';

const baseUrl = () => process.env.FIREBREAK_URL ?? 'http://127.0.0.1:3000';
const token = () => process.env.FIREBREAK_TOKEN ?? process.env.FIREBREAK_ADMIN_TOKEN ?? '';
const headers = () => ({ authorization: `Bearer ${token()}`, 'content-type': 'application/json' });

/** A refused token says which variable to set; any other failure names the request and the answer. */
async function api<T>(method: string, p: string, body?: unknown): Promise<T> {
  const where = `Firebreak at ${baseUrl()}`;
  const res = await fetch(`${baseUrl()}${p}`, {
    method,
    headers: headers(),
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).catch((err: unknown) => {
    throw new CliError(
      `${where} did not answer ${method} ${p}: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  if (res.status === 401) {
    throw new CliError(
      `${where} refused ${method} ${p} (401 Unauthorized): ` +
        (token() ? 'it does not know the token in FIREBREAK_TOKEN. ' : 'no token was sent. ') +
        'Set FIREBREAK_TOKEN to an API token of that server with the respond scope ' +
        '(a fresh install writes its admin token to DATA_DIR/credentials.json).',
    );
  }
  if (res.status === 403) {
    throw new CliError(
      `${where} refused ${method} ${p} (403 Forbidden): the token in FIREBREAK_TOKEN lacks the scope. ` +
        'Set FIREBREAK_TOKEN to a token with the respond scope.',
    );
  }
  if (!res.ok) throw new CliError(`${where}: ${method} ${p} answered ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface RunFlags {
  auto?: boolean;
  speed: string;
}

/** Plays the scenario where it can; returns the report, its Markdown path and whether it passed. */
async function play(scenario: DrillScenario, flags: RunFlags) {
  const opts = { auto: flags.auto ?? false, speed: Number(flags.speed) };
  if (!(opts.speed > 0)) throw new CliError('--speed must be a positive number');
  const view = new ProgressView();
  view.line(describeTiming(scenario, opts.speed));
  const follow = (url: string, bearer: string, incidentId: string, startedAt: number) => {
    view.line(`Drill incident ${incidentId}:`);
    return followTimeline({ url, token: bearer, incidentId, startedAt, speed: opts.speed, view });
  };
  if (await reachable(baseUrl())) {
    const { incident_id } = await api<{ incident_id: string }>('POST', '/v1/drills', { scenario, ...opts });
    const reportOf = () => api<AfterActionReport>('GET', `/v1/drills/${incident_id}/report`);
    let report = await reportOf();
    const progress = follow(baseUrl(), token(), incident_id, Date.parse(report.startedAt));
    try {
      while (report.status === 'running') {
        await new Promise((r) => setTimeout(r, 500));
        report = await reportOf();
      }
    } finally {
      await progress.stop();
    }
    const reportPath = reportPathFor(loadConfig().dataDir, incident_id);
    fs.mkdirSync(path.dirname(reportPath), { recursive: true });
    fs.writeFileSync(reportPath, renderMarkdown(report));
    return { report, reportPath, passed: report.passed };
  }
  console.error(`No Firebreak at ${baseUrl()}: booting an embedded stack for this drill`);
  return runEmbedded(scenario, opts, follow);
}

async function runAndExit(scenario: DrillScenario, flags: RunFlags): Promise<void> {
  const { report, reportPath, passed } = await play(scenario, flags);
  for (const e of report.expectations)
    console.log(
      `${e.verdict === 'met' ? 'MET   ' : e.verdict === 'missed' ? 'MISSED' : 'PENDING'} ${e.id}: ${e.detail}`,
    );
  console.log(`Drill ${report.incidentId} ${passed ? 'passed' : 'failed'}`);
  console.log(`Report: ${reportPath}`);
  // The embedded stack's SDK handles may linger; the verdict is the exit code.
  process.exit(passed ? 0 : 1);
}

export function registerDrillCommands(program: Command): void {
  const drill = program.command('drill').description('Tabletop drills: rehearse playbooks safely');
  drill
    .command('lint')
    .argument('<files...>', 'drill scenario YAML files')
    .description('Validate scenarios; prints file:line:col message per problem')
    .action((files: string[]) => {
      let bad = false;
      for (const file of files) {
        for (const p of lintDrillSource(fs.readFileSync(file, 'utf8')).problems) {
          console.log(`${file}:${p.line}:${p.col} ${p.message}`);
          bad = true;
        }
      }
      if (bad) process.exitCode = 1;
      else console.error(`${files.length} scenario(s) OK`);
    });
  drill
    .command('run')
    .argument('<file>', 'drill scenario YAML file')
    .option('--auto', 'answer approvals and tasks from the scenario’s scripted decisions')
    .option('--speed <n>', 'compress timers and inject offsets by this factor', '1')
    .description('Run a drill (every action simulated) and write its after-action report')
    .action(async (file: string, flags: RunFlags) => runAndExit(loadScenarioFile(file), flags));
  drill
    .command('replay')
    .argument('<incident>', 'a past incident id (from this DATA_DIR)')
    .option('--auto', 'answer approvals and tasks automatically')
    .option('--speed <n>', 'compress timers and inject offsets by this factor', '1')
    .description("Re-run a past incident's alerts as a drill")
    .action(async (incident: string, flags: RunFlags) => {
      const db = await openCliDb();
      const scenario = await scenarioFromIncident(db, incident).finally(() => closeDb(db));
      await runAndExit(scenario, flags);
    });
  drill
    .command('judge')
    .argument('<incident>', 'the drill incident id')
    .argument('<expectation>', 'expectation id from the scenario')
    .argument('<verdict>', 'met or missed')
    .option('--note <text>', 'why')
    .description("Record a facilitator's verdict on an expectation")
    .action(async (incident: string, expectation: string, verdict: string, flags: { note?: string }) => {
      if (verdict !== 'met' && verdict !== 'missed') throw new CliError('verdict must be met or missed');
      const j = { expectation, verdict, ...(flags.note ? { note: flags.note } : {}) } as const;
      if (await reachable(baseUrl())) {
        const r = await api<{ passed: boolean }>('POST', `/v1/drills/${incident}/judgements`, j);
        console.log(`Drill ${incident} now ${r.passed ? 'passes' : 'fails'}`);
        return;
      }
      const dataDir = loadConfig().dataDir;
      const db = await openCliDb();
      await judgeExpectation(db, { incidentId: incident, ...j, actor: process.env.USER ?? 'facilitator' });
      const { report, reportPath } = await settleDrill(db, dataDir, incident);
      console.log(`Drill ${incident} now ${report.passed ? 'passes' : 'fails'}; report: ${reportPath}`);
    });
}
