/**
 * The Arize Phoenix trace store (tested against arize-phoenix 20.26.1): its REST API
 * `GET /v1/projects/{project}/spans`, paged with `limit` and `next_cursor`. First the spans in
 * the window that name the agent (`attribute=gen_ai.agent.id:<id>`, and `gen_ai.agent.name`
 * for the agent's id and its inventory name), then every span of those traces (`trace_id`, in
 * batches). Spans come back as Phoenix holds them (flat OpenTelemetry attributes, events,
 * status) and are kept unchanged in `raw`.
 */
import { z } from 'zod';
import type { SpanQuery, StoredSpan, TraceStore } from './trace-store';
import { ConnectorError } from './types';

export const PhoenixConfig = z
  .object({
    url: z.url(),
    project: z.string().min(1).default('default'),
  })
  .strict();
export type PhoenixConfig = z.output<typeof PhoenixConfig>;

const PhoenixSpan = z.looseObject({
  id: z.string(),
  name: z.string(),
  context: z.looseObject({ trace_id: z.string(), span_id: z.string() }),
  parent_id: z.string().nullable().optional(),
  start_time: z.string(),
  end_time: z.string().nullable().optional(),
  status_code: z.string().default('UNSET'),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
const SpansPage = z.object({ data: z.array(z.unknown()), next_cursor: z.string().nullable().optional() });

/** Phoenix's maximum page size. */
const PAGE_LIMIT = 1000;
const TRACE_BATCH = 50;

/** `apiKey`: Phoenix's API key when its auth is on (FIREBREAK_PHOENIX_API_KEY), sent as a bearer token. */
export function phoenixTraceStore(
  cfg: { url: string; project: string; apiKey?: string; pageLimit?: number },
  fetchImpl: typeof fetch = fetch,
): TraceStore {
  const base = cfg.url.replace(/\/+$/, '');
  const spansUrl = `${base}/v1/projects/${encodeURIComponent(cfg.project)}/spans`;

  async function* pages(params: [string, string][]): AsyncGenerator<StoredSpan[]> {
    let cursor: string | undefined;
    do {
      const qs = new URLSearchParams([
        ...params,
        ['limit', String(cfg.pageLimit ?? PAGE_LIMIT)],
        ['sort', 'start_time'],
        ['order', 'asc'],
      ]);
      if (cursor) qs.set('cursor', cursor);
      const res = await fetchImpl(`${spansUrl}?${qs}`, {
        headers: {
          accept: 'application/json',
          ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}),
        },
      });
      if (res.status === 404)
        throw new ConnectorError(`Phoenix at ${base} has no project ${cfg.project} (${await res.text()})`);
      if (!res.ok)
        throw new Error(`Phoenix ${spansUrl} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      const page = SpansPage.parse(await res.json());
      yield page.data.map(toStored);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  return {
    source: `phoenix:${base}/${cfg.project}`,
    async *agentSpans(q: SpanQuery) {
      const window: [string, string][] = [
        ['start_time', q.start.toISOString()],
        ['end_time', q.end.toISOString()],
      ];
      const names = [...new Set([q.agentId, ...(q.agentName ? [q.agentName] : [])])];
      const filters = [
        `gen_ai.agent.id:${JSON.stringify(q.agentId)}`,
        ...names.map((n) => `gen_ai.agent.name:${JSON.stringify(n)}`),
      ];
      const traces = new Set<string>();
      for (const f of filters)
        for await (const page of pages([...window, ['attribute', f]]))
          for (const s of page) traces.add(s.traceId);
      const ids = [...traces].sort();
      for (let i = 0; i < ids.length; i += TRACE_BATCH) {
        const batch = ids.slice(i, i + TRACE_BATCH).map((t): [string, string] => ['trace_id', t]);
        yield* pages(batch);
      }
    },
  };
}

function toStored(raw: unknown): StoredSpan {
  const s = PhoenixSpan.parse(raw);
  return {
    traceId: s.context.trace_id,
    spanId: s.context.span_id,
    parentId: s.parent_id ?? null,
    name: s.name,
    startTime: s.start_time,
    endTime: s.end_time ?? null,
    status: s.status_code,
    attributes: s.attributes,
    raw,
  };
}
