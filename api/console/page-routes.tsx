/**
 * The console's pages and forms behind the session middleware: incidents (list, counts, one
 * incident, its live timeline fragment, its post-mortem), decisions (approve, reject with a
 * reason, complete a task, add a note) through the shared decision path, agents, drills, the
 * audit log, and issuing a short-lived API token. Reads go to the same db/ modules and workflow
 * queries as the API's read routes.
 */
import crypto from 'node:crypto';
import type { UpdateDefinition } from '@temporalio/client';
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { agentCredentialsOf, listAgents } from '../../db/agents';
import { auditEntries, auditEntriesForAgent, verifyAuditChain } from '../../db/audit';
import { putIssuedToken } from '../../db/console-sessions';
import { listDrills } from '../../db/drills';
import { custodyOf } from '../../db/evidence';
import { getIncident, incidentCounts, listIncidents, type IncidentFilter } from '../../db/incidents';
import { currentPostmortem, listActionItems } from '../../db/postmortem-report';
import { incidentTimeline } from '../../db/timeline';
import type { DecisionKind, UnsignedDecision } from '../../domain/decision-proof';
import type { DecisionProof, PlaybookState } from '../../domain/incident';
import { stepUpProblem, type StepUpPolicy } from '../../domain/step-up';
import { builtinDrills } from '../../drills/builtin';
import { buildReport, renderMarkdown } from '../../drills/report';
import { queryIncident } from '../../temporal/client';
import { addNote, completeTask, decideApproval, playbookState } from '../../workflows/messages';
import { StepUpRequired, submitDecision, type DecisionBase } from '../decide';
import { launchDrill } from '../routes/drills';
import type { ConsoleDeps } from './app';
import type { ConsoleEnv } from './env';
import {
  CountsSection,
  IncidentListPage,
  IncidentPage,
  MarkdownPage,
  TimelineSection,
  type Counts,
  type IncidentPageData,
} from './incident-pages';
import type { PageContext } from './layout';
import { AgentsPage, AuditPage, DrillsPage, ErrorPage, TokensPage } from './other-pages';
import { apiUserOf } from './session';

/** How long an issued API token lives (never past the session's step-up window for those decisions). */
const ISSUED_TOKEN_TTL_MS = 15 * 60_000;

type PageDeps = ConsoleDeps & { stepUp: StepUpPolicy; nowMs: () => number; oidcEnabled: boolean };

const ctxOf = (c: Context<ConsoleEnv>): PageContext => ({
  user: c.var.session.user,
  csrf: c.var.session.csrf,
});

/** The playbook's state from the workflow, or undefined when it does not answer within 2 s. */
async function playbookOf(deps: PageDeps, id: string): Promise<PlaybookState | null | undefined> {
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref());
  return Promise.race([queryIncident(deps.temporal, id, playbookState).catch(() => undefined), timeout]);
}

async function counts(deps: PageDeps): Promise<Counts> {
  const out: Counts = { byStatus: {}, bySeverity: {}, byMode: {} };
  for (const r of await incidentCounts(deps.db)) {
    out.byStatus[r.status] = (out.byStatus[r.status] ?? 0) + r.n;
    out.bySeverity[r.severity] = (out.bySeverity[r.severity] ?? 0) + r.n;
    out.byMode[r.mode] = (out.byMode[r.mode] ?? 0) + r.n;
  }
  return out;
}

const pick = <T extends string>(v: string | undefined, allowed: readonly T[]): T | undefined =>
  allowed.find((a) => a === v);

/** The message of an API error (its JSON body), for a notice on the page. */
async function messageOf(err: HTTPException): Promise<string> {
  const body = (await err
    .getResponse()
    .json()
    .catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? err.message;
}

export function pageRoutes(app: Hono<ConsoleEnv>, deps: PageDeps): void {
  const incidentData = async (id: string): Promise<Omit<IncidentPageData, 'notice'> | undefined> => {
    const inc = await getIncident(deps.db, id);
    if (!inc) return undefined;
    const [playbook, timeline, evidence, actionItems] = await Promise.all([
      inc.status === 'closed' ? Promise.resolve(undefined) : playbookOf(deps, id),
      incidentTimeline(deps.db, id),
      custodyOf(deps.db, id),
      listActionItems(deps.db, id),
    ]);
    return { inc, playbook, timeline, evidence, actionItems };
  };
  const notFound = (c: Context<ConsoleEnv>, what: string) =>
    c.html(<ErrorPage ctx={ctxOf(c)} title="Not found" message={`No ${what}.`} />, 404);

  app.get('/incidents', async (c) => {
    const q = c.req.query();
    const filters = {
      status: pick(q.status, ['open', 'resolved', 'closed'] as const),
      severity: pick(q.severity, ['critical', 'high', 'medium', 'low', 'info'] as const),
      mode: pick(q.mode, ['live', 'drill'] as const),
      agent: q.agent?.trim() || undefined,
    };
    const f: IncidentFilter = {
      status: filters.status,
      severity: filters.severity,
      mode: filters.mode,
      agentId: filters.agent,
      limit: 200,
    };
    const [rows, cs] = await Promise.all([listIncidents(deps.db, f), counts(deps)]);
    return c.html(<IncidentListPage ctx={ctxOf(c)} rows={rows} filters={filters} counts={cs} />);
  });
  app.get('/incidents/counts', async (c) => c.html(<CountsSection counts={await counts(deps)} />));

  app.get('/incidents/:id', async (c) => {
    const d = await incidentData(c.req.param('id'));
    if (!d) return notFound(c, 'such incident');
    const done = c.req.query('done');
    return c.html(
      <IncidentPage ctx={ctxOf(c)} d={{ ...d, ...(done ? { notice: { kind: 'info', text: done } } : {}) }} />,
    );
  });

  app.get('/incidents/:id/timeline', async (c) => {
    const inc = await getIncident(deps.db, c.req.param('id'));
    if (!inc) return notFound(c, 'such incident');
    const rows = await incidentTimeline(deps.db, inc.id);
    return c.html(<TimelineSection incidentId={inc.id} rows={rows} live={inc.status !== 'closed'} />);
  });

  app.get('/incidents/:id/postmortem', async (c) => {
    const id = c.req.param('id');
    const by = `console:${c.var.session.user.id}`;
    const pm = await currentPostmortem(deps.db, id, new Date(deps.nowMs()).toISOString(), by);
    if (!pm) return notFound(c, 'such incident');
    const meta = `revision ${pm.revision}, ${pm.stored ? 'stored' : 'rendered now from current facts'}, sha256 ${pm.sha256}`;
    return c.html(
      <MarkdownPage
        ctx={ctxOf(c)}
        title={`Post-mortem ${id}`}
        back={`/console/incidents/${encodeURIComponent(id)}`}
        markdown={pm.markdown}
        meta={meta}
      />,
    );
  });

  /** Runs one decision through api/decide.ts; redirects back, or shows why it was refused. */
  const decide =
    <R, A extends UnsignedDecision>(
      kind: DecisionKind,
      update: UpdateDefinition<R, [A & { proof: DecisionProof }]>,
      argOf: (form: Record<string, unknown>, c: Context<ConsoleEnv>, base: DecisionBase) => A,
      done: (form: Record<string, unknown>) => string,
    ) =>
    async (c: Context<ConsoleEnv>) => {
      const id = c.req.param('id')!;
      const form = (await c.req.parseBody()) as Record<string, unknown>;
      const user = c.var.session.user;
      const page = `/console/incidents/${encodeURIComponent(id)}`;
      const show = async (status: 403 | 404 | 409 | 400, text: string, stepUpUrl?: string) => {
        const d = await incidentData(id);
        if (!d) return notFound(c, 'such incident');
        const notice = { kind: 'error' as const, text, ...(stepUpUrl ? { stepUpUrl } : {}) };
        return c.html(<IncidentPage ctx={ctxOf(c)} d={{ ...d, notice }} />, status);
      };
      if (!user.scopes.includes('respond'))
        return show(403, 'your sign-in has read access only (no respond scope): it cannot decide');
      const given = typeof form.decision_id === 'string' && form.decision_id ? form.decision_id : undefined;
      try {
        await submitDecision(deps, {
          incidentId: id,
          kind,
          update,
          user: apiUserOf(user),
          ...(given ? { decisionId: given } : {}),
          arg: (base) => argOf(form, c, base),
        });
      } catch (err) {
        if (err instanceof StepUpRequired) {
          const url = deps.oidcEnabled
            ? `/console/auth/start?step_up=1&return=${encodeURIComponent(page)}`
            : undefined;
          const how = url ? '' : ' Single sign-on is not configured, so this console cannot step up.';
          return show(403, `Refused: ${err.rule}; ${err.problem}.${how}`, url);
        }
        if (err instanceof HTTPException) return show(err.status as 403, `Refused: ${await messageOf(err)}`);
        throw err;
      }
      return c.redirect(`${page}?done=${encodeURIComponent(done(form))}`, 303);
    };

  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 2000) : undefined);
  app.post(
    '/incidents/:id/approvals/:stepId',
    decide(
      'approval',
      decideApproval,
      (form, c, base) => {
        const reason = text(form.reason);
        return {
          ...base,
          stepId: c.req.param('stepId')!,
          decision: form.decision === 'reject' ? ('reject' as const) : ('approve' as const),
          ...(reason ? { reason } : {}),
        };
      },
      (form) => (form.decision === 'reject' ? 'Rejected.' : 'Approved.'),
    ),
  );
  app.post(
    '/incidents/:id/tasks/:stepId/done',
    decide(
      'task',
      completeTask,
      (form, c, base) => {
        const note = text(form.note);
        return { ...base, stepId: c.req.param('stepId')!, ...(note ? { note } : {}) };
      },
      () => 'Task completed.',
    ),
  );
  app.post(
    '/incidents/:id/notes',
    decide(
      'note',
      addNote,
      (form, _c, base) => ({ ...base, text: text(form.text) ?? '(empty note)' }),
      () => 'Note added.',
    ),
  );

  app.get('/agents', async (c) => {
    const agents = await listAgents(deps.db);
    const creds = await agentCredentialsOf(
      deps.db,
      agents.map((a) => a.id),
    );
    const views = await Promise.all(
      agents.map(async (agent) => {
        const changes = (await auditEntriesForAgent(deps.db, agent.id, '')).filter(
          (r) => r.action === 'inventory.status' || r.action === 'inventory.tools',
        );
        return {
          agent,
          credentials: creds.filter((x) => x.agentId === agent.id),
          lastChange: changes.at(-1),
        };
      }),
    );
    return c.html(<AgentsPage ctx={ctxOf(c)} agents={views} />);
  });

  const scenarios = () =>
    builtinDrills().map((d) => ({
      id: d.scenario.id,
      title: d.scenario.title,
      playbook: d.scenario.playbook,
      injects: d.scenario.injects.length,
      source: d.source,
    }));
  const drillsPage = async (c: Context<ConsoleEnv>, error?: string) =>
    c.html(
      <DrillsPage
        ctx={ctxOf(c)}
        scenarios={scenarios()}
        drills={await listDrills(deps.db, 50)}
        {...(error ? { error } : {})}
      />,
      error ? 400 : 200,
    );
  app.get('/drills', (c) => drillsPage(c));
  app.post('/drills', async (c) => {
    const form = await c.req.parseBody();
    if (!c.var.session.user.scopes.includes('respond'))
      return drillsPage(c, 'your sign-in has read access only: it cannot start a drill');
    const s = scenarios().find((x) => x.id === form.scenario);
    if (!s) return drillsPage(c, `no built-in scenario ${String(form.scenario)}`);
    const speed = Math.min(10_000, Math.max(1, Number(form.speed) || 1));
    try {
      const id = await launchDrill(deps, s.source, { auto: form.auto === 'true', speed });
      return c.redirect(`/console/drills/${encodeURIComponent(id)}`, 303);
    } catch (err) {
      if (err instanceof HTTPException) return drillsPage(c, await messageOf(err));
      throw err;
    }
  });
  app.get('/drills/:id', async (c) => {
    const id = c.req.param('id');
    const report = await buildReport(deps.db, id);
    if (!report) return notFound(c, 'such drill');
    const verdict = report.passed ? 'every expectation met' : 'some expectations not met (yet)';
    const meta = `status ${report.status} · ${verdict} · speed ×${report.speed}`;
    return c.html(
      <MarkdownPage
        ctx={ctxOf(c)}
        title={`After-action report: ${report.scenario.title}`}
        back={`/console/incidents/${encodeURIComponent(id)}`}
        markdown={renderMarkdown(report)}
        meta={meta}
      />,
    );
  });

  app.get('/audit', async (c) => {
    const rows = await auditEntries(deps.db);
    const verdict = deps.auditVerifier
      ? await verifyAuditChain(deps.db, { key: deps.auditVerifier })
      : undefined;
    const last = rows.slice(-200).reverse();
    return c.html(<AuditPage ctx={ctxOf(c)} verdict={verdict} rows={last} total={rows.length} />);
  });

  const tokensPage = (c: Context<ConsoleEnv>, issued?: { token: string; expiresAt: string }) => {
    const problem = stepUpProblem(c.var.session.user.auth, deps.stepUp, deps.nowMs());
    return c.html(
      <TokensPage
        ctx={ctxOf(c)}
        stepUpOk={problem === undefined}
        stepUpProblem={problem}
        windowMinutes={Math.round(deps.stepUp.windowMs / 60_000)}
        {...(issued ? { issued } : {})}
      />,
    );
  };
  app.get('/tokens', (c) => tokensPage(c));
  app.post('/tokens', async (c) => {
    const user = apiUserOf(c.var.session.user);
    const token = `fbk_${crypto.randomBytes(32).toString('base64url')}`;
    const expiresAtMs = deps.nowMs() + ISSUED_TOKEN_TTL_MS;
    const issuedUser = { ...user, auth: { ...user.auth, method: 'issued' as const } };
    await putIssuedToken(
      deps.db,
      token,
      issuedUser as unknown as Record<string, unknown>,
      deps.nowMs(),
      expiresAtMs,
    );
    return tokensPage(c, { token, expiresAt: new Date(expiresAtMs).toISOString() });
  });
}
