/**
 * The human docs page at /docs: the operations of the OpenAPI document rendered on the server as
 * plain HTML, grouped by tag, with their scopes, parameters, request bodies and responses. It runs
 * no script and loads nothing from another origin (its meta CSP forbids both), so the API origin
 * never executes third-party code; the machine-readable document stays at /openapi.json.
 */
import { openApiDocument } from './openapi';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
}
type Paths = Record<string, Record<string, Operation>>;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function access(op: Operation): string {
  const options = (op.security ?? []).map((s) => {
    const entries = Object.entries(s);
    if (entries.length === 0) return 'none';
    return entries
      .map(([scheme, scopes]) => (scopes.length ? `${scheme} (${scopes.join(', ')})` : scheme))
      .join(' + ');
  });
  return options.length ? options.join(' or ') : 'none';
}

function renderOperation(method: string, path: string, op: Operation): string {
  const rows: string[] = [];
  rows.push(`<p class="access">Auth: ${escapeHtml(access(op))}</p>`);
  if (op.description) rows.push(`<p>${escapeHtml(op.description)}</p>`);
  if (op.parameters?.length) {
    const items = op.parameters.map(
      (p) =>
        `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ', required' : ''})` +
        `${p.description ? `: ${escapeHtml(p.description)}` : ''}</li>`,
    );
    rows.push(`<p>Parameters</p><ul>${items.join('')}</ul>`);
  }
  const bodyTypes = Object.keys(op.requestBody?.content ?? {});
  if (bodyTypes.length)
    rows.push(`<p>Body: ${bodyTypes.map((t) => `<code>${escapeHtml(t)}</code>`).join(', ')}</p>`);
  const responses = Object.entries(op.responses ?? {}).map(
    ([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(r.description ?? '')}</li>`,
  );
  rows.push(`<p>Responses</p><ul>${responses.join('')}</ul>`);
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  return `<section id="${escapeHtml(id)}">
<h3><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p><strong>${escapeHtml(op.summary ?? '')}</strong></p>
${rows.join('\n')}
</section>`;
}

/** The page for `doc`, grouped by each operation's first tag in the order tags first appear. */
export function renderDocsPage(doc: Record<string, unknown>, specUrl: string, title: string): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries((doc.paths ?? {}) as Paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
    }
  }
  const info = (doc.info ?? {}) as { description?: string; version?: string };
  const toc = [...byTag.keys()]
    .map((t) => `<a href="#tag-${escapeHtml(t)}">${escapeHtml(t)}</a>`)
    .join(' · ');
  const groups = [...byTag].map(
    ([tag, ops]) => `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>\n${ops.join('\n')}`,
  );
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'" />
    <title>${escapeHtml(title)}</title>
    <style>
      body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
      section { border-top: 1px solid #ddd; padding: 0.5rem 0; }
      .method { font-family: monospace; background: #eee; padding: 0 0.4rem; border-radius: 3px; }
      .access { color: #555; }
      h3 { margin-bottom: 0; }
    </style>
  </head>
  <body>
    <h1>${escapeHtml(title)}${info.version ? ` <small>${escapeHtml(info.version)}</small>` : ''}</h1>
    <p>${escapeHtml(info.description ?? '')}</p>
    <p>Machine-readable: <a href="${escapeHtml(specUrl)}">${escapeHtml(specUrl)}</a> (OpenAPI 3.1).</p>
    <nav>${toc}</nav>
${groups.join('\n')}
  </body>
</html>
`;
}

const rendered = new Map<string, string>();

/** The page for this API's own document, rendered once per (specUrl, title). */
export function docsPage(specUrl: string, title: string): string {
  const key = `${specUrl}\n${title}`;
  let page = rendered.get(key);
  if (page === undefined) {
    page = renderDocsPage(openApiDocument(), specUrl, title);
    rendered.set(key, page);
  }
  return page;
}
