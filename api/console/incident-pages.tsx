/**
 * The incident pages: the filtered list with counts, and one incident (summary, phase and
 * milestones, pending approvals and open tasks with their forms, the timeline, evidence with
 * hashes and custody, action items, and links to the post-mortem). The timeline section reloads
 * itself with htmx every few seconds while JavaScript is on; without it, the page is complete
 * as served. Forms post to the console routes, which decide through api/decide.ts.
 */
import type { CustodyRow } from '../../db/evidence';
import type { IncidentRow } from '../../db/incidents';
import type { TimelineRow } from '../../db/timeline';
import type { PlaybookState } from '../../domain/incident';
import { PHASES } from '../../domain/phases';
import type { ActionItem } from '../../domain/postmortem';
import { Badge, Csrf, Layout, Notice, Table, type PageContext } from './layout';

export interface IncidentFilters {
  status?: string;
  severity?: string;
  mode?: string;
  agent?: string;
}

export interface Counts {
  byStatus: Record<string, number>;
  bySeverity: Record<string, number>;
  byMode: Record<string, number>;
}

function Select(props: { name: string; label: string; value: string | undefined; options: string[] }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name}>
        <option value="">any</option>
        {props.options.map((o) => (
          <option value={o} selected={props.value === o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function CountList(props: { label: string; counts: Record<string, number> }) {
  return (
    <div class="counts">
      <h3>{props.label}</h3>
      <ul>
        {Object.entries(props.counts).map(([k, n]) => (
          <li>
            <Badge value={k} /> <strong>{n}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function CountsSection(props: { counts: Counts }) {
  return (
    <section
      id="counts"
      aria-label="Incident counts"
      hx-get="/console/incidents/counts"
      hx-trigger="every 5s"
      hx-swap="outerHTML"
    >
      <CountList label="By status" counts={props.counts.byStatus} />
      <CountList label="By severity" counts={props.counts.bySeverity} />
      <CountList label="By mode" counts={props.counts.byMode} />
    </section>
  );
}

export function IncidentListPage(props: {
  ctx: PageContext;
  rows: IncidentRow[];
  filters: IncidentFilters;
  counts: Counts;
}) {
  const f = props.filters;
  return (
    <Layout title="Incidents" ctx={props.ctx}>
      <CountsSection counts={props.counts} />
      <form class="filters" method="get" action="/console/incidents" role="search">
        <Select name="status" label="Status" value={f.status} options={['open', 'resolved', 'closed']} />
        <Select
          name="severity"
          label="Severity"
          value={f.severity}
          options={['critical', 'high', 'medium', 'low', 'info']}
        />
        <Select name="mode" label="Mode" value={f.mode} options={['live', 'drill']} />
        <div class="field">
          <label for="f-agent">Agent</label>
          <input id="f-agent" name="agent" value={f.agent ?? ''} autocomplete="off" />
        </div>
        <button type="submit">Filter</button>
      </form>
      {props.rows.length === 0 ? (
        <p>No incidents match.</p>
      ) : (
        <Table
          caption={`${props.rows.length} incident(s), newest first`}
          head={['Incident', 'Severity', 'Status', 'Mode', 'Phase', 'Agent', 'Opened']}
        >
          {props.rows.map((r) => (
            <tr>
              <td>
                <a href={`/console/incidents/${encodeURIComponent(r.id)}`}>{r.title}</a>
                <div class="muted">{r.id}</div>
                {r.needsAttentionAt ? <div class="attention">needs attention</div> : null}
              </td>
              <td>
                <Badge value={r.severity} />
              </td>
              <td>
                <Badge value={r.status} />
              </td>
              <td>{r.mode}</td>
              <td>{r.phase}</td>
              <td>{r.agentId ?? '–'}</td>
              <td>
                <time datetime={r.openedAt}>{r.openedAt}</time>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Layout>
  );
}

export function TimelineSection(props: { incidentId: string; rows: TimelineRow[]; live: boolean }) {
  return (
    <section
      id="timeline"
      aria-labelledby="timeline-h"
      {...(props.live
        ? {
            'hx-get': `/console/incidents/${encodeURIComponent(props.incidentId)}/timeline`,
            'hx-trigger': 'every 2s',
            'hx-swap': 'outerHTML',
          }
        : {})}
    >
      <h2 id="timeline-h">Timeline</h2>
      <ol class="timeline" aria-live="polite">
        {props.rows.map((e) => (
          <li data-kind={e.kind}>
            <time datetime={e.at}>{e.at}</time> <span class="kind">{e.kind}</span>{' '}
            <span class="actor">{e.actor}</span>
            <div class="msg">{e.message}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Milestones(props: { phase: string }) {
  const at = PHASES.indexOf(props.phase as (typeof PHASES)[number]);
  const done = props.phase === 'closed' || props.phase === 'done';
  return (
    <ol class="milestones" aria-label="Phases">
      {PHASES.map((p, i) => {
        const state = done || (at >= 0 && i < at) ? 'done' : i === at ? 'current' : 'todo';
        return (
          <li class={`ms-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            {p} <span class="sr">({state})</span>
          </li>
        );
      })}
    </ol>
  );
}

function Approvals(props: { ctx: PageContext; inc: IncidentRow; pb: PlaybookState }) {
  const base = `/console/incidents/${encodeURIComponent(props.inc.id)}`;
  if (props.pb.pendingApprovals.length === 0 && props.pb.openTasks.length === 0)
    return <p>Nothing waits for a decision.</p>;
  return (
    <>
      {props.pb.pendingApprovals.map((a) => (
        <article class="card" aria-labelledby={`ap-${a.stepId}`}>
          <h3 id={`ap-${a.stepId}`}>Approval: {a.stepId}</h3>
          <p>{a.prompt}</p>
          <p class="muted">
            {a.approvals} of {a.minApprovals} approval(s); approvers:{' '}
            {[...a.approvers.users, ...a.approvers.groups, ...a.approvers.roles].join(', ')}
            {a.actions.length > 0 ? `; runs ${a.actions.join(', ')}` : ''}
            {a.deadline ? `; deadline ${a.deadline}` : ''}
          </p>
          <form method="post" action={`${base}/approvals/${encodeURIComponent(a.stepId)}`}>
            <Csrf ctx={props.ctx} />
            <input type="hidden" name="decision" value="approve" />
            <button type="submit" class="approve">
              Approve {a.stepId}
            </button>
          </form>
          <form method="post" action={`${base}/approvals/${encodeURIComponent(a.stepId)}`}>
            <Csrf ctx={props.ctx} />
            <input type="hidden" name="decision" value="reject" />
            <label for={`reason-${a.stepId}`}>Reason for rejecting</label>
            <input id={`reason-${a.stepId}`} name="reason" required maxlength={2000} />
            <button type="submit" class="reject">
              Reject {a.stepId}
            </button>
          </form>
        </article>
      ))}
      {props.pb.openTasks.map((t) => (
        <article class="card" aria-labelledby={`task-${t.stepId}`}>
          <h3 id={`task-${t.stepId}`}>Task: {t.stepId}</h3>
          <p>{t.task}</p>
          <form method="post" action={`${base}/tasks/${encodeURIComponent(t.stepId)}/done`}>
            <Csrf ctx={props.ctx} />
            <label for={`note-${t.stepId}`}>Note (optional)</label>
            <input id={`note-${t.stepId}`} name="note" maxlength={2000} />
            <button type="submit">Complete {t.stepId}</button>
          </form>
        </article>
      ))}
    </>
  );
}

export interface IncidentPageData {
  inc: IncidentRow;
  /** undefined: the workflow did not answer (closed, or not running). */
  playbook: PlaybookState | null | undefined;
  timeline: TimelineRow[];
  evidence: CustodyRow[];
  actionItems: ActionItem[];
  notice?: { kind: 'error' | 'info'; text: string; stepUpUrl?: string };
}

export function IncidentPage(props: { ctx: PageContext; d: IncidentPageData }) {
  const { inc, playbook: pb } = props.d;
  const base = `/console/incidents/${encodeURIComponent(inc.id)}`;
  const n = props.d.notice;
  return (
    <Layout title={inc.title} ctx={props.ctx}>
      {n ? (
        <Notice kind={n.kind}>
          {n.text}
          {n.stepUpUrl ? (
            <>
              {' '}
              <a class="step-up" href={n.stepUpUrl}>
                Sign in again with a second factor
              </a>
            </>
          ) : null}
        </Notice>
      ) : null}
      <dl class="summary">
        <dt>Incident</dt>
        <dd>{inc.id}</dd>
        <dt>Severity</dt>
        <dd>
          <Badge value={inc.severity} />
        </dd>
        <dt>Status</dt>
        <dd>
          <Badge value={inc.status} />
        </dd>
        <dt>Mode</dt>
        <dd>{inc.mode}</dd>
        <dt>Agent</dt>
        <dd>{inc.agentId ?? '–'}</dd>
        <dt>Playbook</dt>
        <dd>{inc.playbookId ? `${inc.playbookId} v${inc.playbookVersion ?? '?'}` : '–'}</dd>
        <dt>Source</dt>
        <dd>{inc.source}</dd>
        <dt>Alerts</dt>
        <dd>{inc.alertCount}</dd>
        <dt>Opened</dt>
        <dd>{inc.openedAt}</dd>
      </dl>
      {inc.needsAttentionAt ? (
        <Notice kind="error">
          Needs attention: {inc.needsAttentionReason}
          {inc.needsAttentionStep ? ` (step ${inc.needsAttentionStep})` : ''}
        </Notice>
      ) : null}
      <h2>Phase</h2>
      <Milestones phase={pb?.phase ?? inc.phase} />
      <section aria-labelledby="decide-h">
        <h2 id="decide-h">Waiting for a decision</h2>
        {pb ? (
          <Approvals ctx={props.ctx} inc={inc} pb={pb} />
        ) : (
          <p>{inc.status === 'closed' ? 'The incident is closed.' : 'The playbook did not answer.'}</p>
        )}
      </section>
      <p>
        <a href={`${base}/postmortem`}>Read the post-mortem</a>
        {inc.mode === 'drill' ? (
          <>
            {' · '}
            <a href={`/console/drills/${encodeURIComponent(inc.id)}`}>After-action report</a>
          </>
        ) : null}
      </p>
      <TimelineSection incidentId={inc.id} rows={props.d.timeline} live={inc.status !== 'closed'} />
      <form method="post" action={`${base}/notes`} class="note">
        <Csrf ctx={props.ctx} />
        <label for="note-text">Add a note to the timeline</label>
        <textarea id="note-text" name="text" required maxlength={4000} rows={2}></textarea>
        <button type="submit">Add note</button>
      </form>
      <h2>Evidence</h2>
      {props.d.evidence.length === 0 ? (
        <p>No evidence collected yet.</p>
      ) : (
        <Table
          caption="Evidence and chain of custody"
          head={['Kind', 'SHA-256', 'Size', 'Source', 'Collected by', 'At']}
        >
          {props.d.evidence.map((e) => (
            <tr>
              <td>{e.kind}</td>
              <td>
                <code class="hash">{e.sha256}</code>
              </td>
              <td>{e.size} B</td>
              <td>{e.source}</td>
              <td>{e.collectedBy}</td>
              <td>{e.collectedAt}</td>
            </tr>
          ))}
        </Table>
      )}
      <h2>Action items</h2>
      {props.d.actionItems.length === 0 ? (
        <p>No action items yet (they are registered when the post-mortem phase starts).</p>
      ) : (
        <Table caption="Action items" head={['Item', 'Owner', 'Status', 'Done by']}>
          {props.d.actionItems.map((a) => (
            <tr>
              <td>{a.title}</td>
              <td>{a.owner}</td>
              <td>
                <Badge value={a.status} />
              </td>
              <td>{a.completed_by ?? '–'}</td>
            </tr>
          ))}
        </Table>
      )}
    </Layout>
  );
}

export function MarkdownPage(props: {
  ctx: PageContext;
  title: string;
  back: string;
  markdown: string;
  meta: string;
}) {
  return (
    <Layout title={props.title} ctx={props.ctx}>
      <p>
        <a href={props.back}>Back</a> · <span class="muted">{props.meta}</span>
      </p>
      <pre class="report">{props.markdown}</pre>
    </Layout>
  );
}
