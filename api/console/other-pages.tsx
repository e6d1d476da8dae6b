/**
 * The console's other pages: sign-in, the agent inventory (credentials by reference, kill-switch
 * state, who changed it in which incident), drills (built-in scenarios with a start form, recent
 * drills and their after-action reports), the audit log with the verdict of `audit verify`, and
 * the short-lived API token a signed-in person can be issued.
 */
import type { AgentRow, CredentialRow } from '../../db/agents';
import type { AuditRow, AuditVerification } from '../../db/audit';
import type { DrillRow } from '../../db/drills';
import { Badge, Csrf, Layout, Notice, Table, type PageContext } from './layout';

export function LoginPage(props: {
  ctx: PageContext;
  oidc: boolean;
  local: boolean;
  returnTo: string;
  error?: string;
}) {
  return (
    <Layout title="Sign in" ctx={props.ctx}>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.oidc ? (
        <p>
          <a class="button" href={`/console/auth/start?return=${encodeURIComponent(props.returnTo)}`}>
            Sign in with single sign-on
          </a>
        </p>
      ) : (
        <p>Single sign-on is not configured (FIREBREAK_OIDC_ISSUER).</p>
      )}
      {props.local ? (
        <form method="post" action="/console/login/token">
          <Csrf ctx={props.ctx} />
          <input type="hidden" name="return" value={props.returnTo} />
          <label for="token">Or sign in as a local user with your API token</label>
          <input id="token" name="token" type="password" required autocomplete="off" minlength={16} />
          <button type="submit">Sign in with token</button>
        </form>
      ) : null}
    </Layout>
  );
}

export function ErrorPage(props: { ctx: PageContext; title: string; message: string; stepUpUrl?: string }) {
  return (
    <Layout title={props.title} ctx={props.ctx}>
      <Notice kind="error">{props.message}</Notice>
      {props.stepUpUrl ? (
        <p>
          <a class="button step-up" href={props.stepUpUrl}>
            Sign in again with a second factor
          </a>
        </p>
      ) : null}
      <p>
        <a href="/console/incidents">Back to incidents</a>
      </p>
    </Layout>
  );
}

export interface AgentView {
  agent: AgentRow;
  credentials: CredentialRow[];
  /** The last kill-switch change in the audit log: who, which action, when. */
  lastChange: AuditRow | undefined;
}

export function AgentsPage(props: { ctx: PageContext; agents: AgentView[] }) {
  return (
    <Layout title="Agents" ctx={props.ctx}>
      {props.agents.length === 0 ? (
        <p>No agents in the inventory (npm run cli -- agents import agents.yaml).</p>
      ) : (
        <Table
          caption="Agent inventory and kill-switch state"
          head={['Agent', 'Owner', 'Kill switch', 'Changed by', 'Credentials (by reference)']}
        >
          {props.agents.map(({ agent: a, credentials, lastChange }) => (
            <tr id={`agent-${a.id}`}>
              <td>
                <strong>{a.name}</strong>
                <div class="muted">
                  {a.id} · {a.environment}
                  {a.team ? ` · ${a.team}` : ''}
                </div>
              </td>
              <td>{a.owner}</td>
              <td>
                <Badge value={a.status} /> <span class="muted">v{a.statusVersion}</span>
                {a.blockedTools.length > 0 ? <div>blocked tools: {a.blockedTools.join(', ')}</div> : null}
                <div class="muted">since {a.statusChangedAt}</div>
              </td>
              <td>
                {lastChange ? (
                  <>
                    {lastChange.action} by {lastChange.actor}
                    <div class="muted">{lastChange.at}</div>
                  </>
                ) : (
                  '–'
                )}
                {a.statusIncident ? (
                  <div>
                    in{' '}
                    <a href={`/console/incidents/${encodeURIComponent(a.statusIncident)}`}>
                      {a.statusIncident}
                    </a>
                  </div>
                ) : null}
              </td>
              <td>
                <ul class="plain">
                  {credentials.map((c) => (
                    <li>
                      {c.provider}: <code>{c.reference}</code> <Badge value={c.status} />
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Layout>
  );
}

export function DrillsPage(props: {
  ctx: PageContext;
  scenarios: { id: string; title: string; playbook: string; injects: number }[];
  drills: DrillRow[];
  error?: string;
}) {
  return (
    <Layout title="Drills" ctx={props.ctx}>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <h2>Start a drill</h2>
      <form method="post" action="/console/drills" class="drill-start">
        <Csrf ctx={props.ctx} />
        <div class="field">
          <label for="scenario">Scenario</label>
          <select id="scenario" name="scenario" required>
            {props.scenarios.map((s) => (
              <option value={s.id}>
                {s.title} ({s.playbook}, {s.injects} injects)
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="speed">Speed (scenario time ÷ wall time)</label>
          <input id="speed" name="speed" type="number" min="1" max="10000" value="60" />
        </div>
        <div class="field check">
          <input id="auto" name="auto" type="checkbox" value="true" checked />
          <label for="auto">Answer approvals and tasks from the scenario's scripted decisions</label>
        </div>
        <button type="submit">Start drill</button>
      </form>
      <h2>Recent drills</h2>
      {props.drills.length === 0 ? (
        <p>No drills yet.</p>
      ) : (
        <Table caption="Drills, newest first" head={['Drill', 'Scenario', 'Status', 'Started', 'Report']}>
          {props.drills.map((d) => (
            <tr>
              <td>
                <a href={`/console/incidents/${encodeURIComponent(d.incidentId)}`}>{d.incidentId}</a>
              </td>
              <td>{d.scenarioId}</td>
              <td>
                <Badge value={d.status} />
              </td>
              <td>{d.startedAt}</td>
              <td>
                <a href={`/console/drills/${encodeURIComponent(d.incidentId)}`}>After-action report</a>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Layout>
  );
}

export function AuditPage(props: {
  ctx: PageContext;
  verdict: AuditVerification | undefined;
  rows: AuditRow[];
  total: number;
}) {
  const v = props.verdict;
  return (
    <Layout title="Audit log" ctx={props.ctx}>
      {v === undefined ? (
        <Notice kind="error">
          No audit public key was given to this process: the chain cannot be verified here.
        </Notice>
      ) : v.ok ? (
        <Notice kind="info">
          audit verify: OK, {v.entries} entries, every hash, link and signature checks out.
        </Notice>
      ) : (
        <Notice kind="error">
          audit verify: FAILED at entry {v.firstBad?.seq}: {v.firstBad?.reason}
        </Notice>
      )}
      <Table
        caption={`The last ${props.rows.length} of ${props.total} entries, newest first`}
        head={['#', 'At', 'Actor', 'Action', 'Target', 'Incident', 'Outcome', 'Hash']}
      >
        {props.rows.map((r) => (
          <tr>
            <td>{r.seq}</td>
            <td>{r.at}</td>
            <td>{r.actor}</td>
            <td>{r.action}</td>
            <td>{r.target}</td>
            <td>
              {r.incidentId ? (
                <a href={`/console/incidents/${encodeURIComponent(r.incidentId)}`}>{r.incidentId}</a>
              ) : (
                '–'
              )}
            </td>
            <td>
              <Badge value={r.outcome} />
            </td>
            <td>
              <code class="hash">{r.hash.slice(0, 16)}…</code>
            </td>
          </tr>
        ))}
      </Table>
    </Layout>
  );
}

export function TokensPage(props: {
  ctx: PageContext;
  issued?: { token: string; expiresAt: string };
  stepUpOk: boolean;
  stepUpProblem: string | undefined;
  windowMinutes: number;
}) {
  return (
    <Layout title="API token" ctx={props.ctx}>
      <p>
        A short-lived token for the API and the CLI (<code>FIREBREAK_TOKEN</code>), acting as you. Decisions
        that need a recent multi-factor sign-in (an irreversible action, releasing containment) are accepted
        through the API only with such a token, while your sign-in is less than {props.windowMinutes} minutes
        old.
      </p>
      {props.stepUpOk ? (
        <Notice kind="info">
          Your sign-in has a recent second factor: the token can make those decisions.
        </Notice>
      ) : (
        <Notice kind="info">
          This token cannot make step-up decisions: {props.stepUpProblem}.{' '}
          <a class="step-up" href="/console/auth/start?step_up=1&return=%2Fconsole%2Ftokens">
            Sign in again with a second factor
          </a>
        </Notice>
      )}
      {props.issued ? (
        <div class="card">
          <label for="issued">Your token (shown once, expires {props.issued.expiresAt})</label>
          <input id="issued" readonly value={props.issued.token} />
        </div>
      ) : null}
      <form method="post" action="/console/tokens">
        <Csrf ctx={props.ctx} />
        <button type="submit">Issue a token</button>
      </form>
    </Layout>
  );
}
