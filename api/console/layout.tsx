/**
 * The console's page frame and small shared pieces (hono/jsx, rendered on the server). Every page
 * is plain HTML that reads and works with JavaScript off: links, GET filter forms and POST forms
 * carrying the session's CSRF token. htmx (served from node_modules at a same-origin path, no
 * inline script, eval off) only refreshes the regions marked `hx-get` while JavaScript is on.
 */
import crypto from 'node:crypto';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ConsoleUser } from './session';

export interface PageContext {
  user: ConsoleUser | undefined;
  csrf: string | undefined;
}

const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
});

export function Layout(props: { title: string; ctx: PageContext; children: Child }) {
  const { user, csrf } = props.ctx;
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title>{props.title} · Firebreak</title>
          <link rel="stylesheet" href="/console/static/console.css" />
          <script src="/console/static/htmx.min.js" defer></script>
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/console/incidents">
              Firebreak
            </a>
            {user ? (
              <nav aria-label="Console">
                <ul>
                  <li>
                    <a href="/console/incidents">Incidents</a>
                  </li>
                  <li>
                    <a href="/console/agents">Agents</a>
                  </li>
                  <li>
                    <a href="/console/drills">Drills</a>
                  </li>
                  <li>
                    <a href="/console/audit">Audit log</a>
                  </li>
                  <li>
                    <a href="/console/tokens">API token</a>
                  </li>
                </ul>
              </nav>
            ) : null}
            {user && csrf ? (
              <form class="signout" method="post" action="/console/logout">
                <input type="hidden" name="_csrf" value={csrf} />
                <span class="who">
                  {user.name} ({user.id})
                </span>
                <button type="submit">Sign out</button>
              </form>
            ) : null}
          </header>
          <main id="main">
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/**
 * The hidden fields of every form: the session's CSRF token, and a fresh decision id, so that a
 * form submitted twice (a double click, a resend after a timeout) decides once.
 */
export function Csrf(props: { ctx: PageContext }) {
  return (
    <>
      <input type="hidden" name="_csrf" value={props.ctx.csrf ?? ''} />
      <input type="hidden" name="decision_id" value={crypto.randomUUID()} />
    </>
  );
}

/** A table that scrolls sideways on a phone instead of overflowing the page. */
export function Table(props: { caption: string; head: string[]; children: Child }) {
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label={props.caption}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

export function Badge(props: { value: string | null | undefined }) {
  const v = props.value ?? '–';
  return <span class={`badge badge-${v.replace(/[^a-z_-]/gi, '')}`}>{v}</span>;
}

export function Notice(props: { kind: 'error' | 'info'; children: Child }) {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}
