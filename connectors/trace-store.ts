/**
 * The trace-store evidence source interface: anything that can answer "the agent's spans in this
 * window" (Phoenix today, connectors/phoenix.ts; Jaeger or another OTLP store with a query API
 * behind the same interface). A store returns its spans as it holds them, page by page; the
 * collector stores them in parts of bounded size.
 */

/** One span as the trace store holds it, plus the fields the collector needs to read it. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentId: string | null;
  name: string;
  startTime: string;
  endTime: string | null;
  /** OpenTelemetry status code as the store reports it (`OK`, `ERROR`, `UNSET`). */
  status: string;
  /** Flat OpenTelemetry attributes (`gen_ai.agent.id` etc.), as read from `raw`. */
  attributes: Record<string, unknown>;
  /** The store's own record of the span, unchanged: this is what the artifact keeps. */
  raw: unknown;
}

export interface SpanQuery {
  agentId: string;
  /** The agent's display name: GenAI spans may carry only `gen_ai.agent.name`. */
  agentName?: string;
  start: Date;
  end: Date;
}

export interface TraceStore {
  /** The source id in artifacts and custody, e.g. `phoenix:http://127.0.0.1:6006/default`. */
  readonly source: string;
  /**
   * Pages of the spans of every trace in which a span that started in the window names the agent
   * (agentSpanMatches): execute_tool and chat spans under an invoke_agent span often carry no
   * agent attribute themselves, so whole traces are kept.
   */
  agentSpans(q: SpanQuery): AsyncIterable<StoredSpan[]>;
}

/** The GenAI attributes that identify the agent on a span (for stores that cannot filter). */
export function agentSpanMatches(span: StoredSpan, q: Pick<SpanQuery, 'agentId' | 'agentName'>): boolean {
  const a = span.attributes;
  return (
    a['gen_ai.agent.id'] === q.agentId ||
    a['gen_ai.agent.name'] === q.agentId ||
    (q.agentName !== undefined && a['gen_ai.agent.name'] === q.agentName)
  );
}

/** Every page of the agent's spans, in start-time order (ties by span id). */
export async function agentSpans(store: TraceStore, q: SpanQuery): Promise<StoredSpan[]> {
  const out: StoredSpan[] = [];
  for await (const page of store.agentSpans(q)) out.push(...page);
  return out.sort((a, b) => a.startTime.localeCompare(b.startTime) || a.spanId.localeCompare(b.spanId));
}
