/**
 * One MCP `tools/call` over the streamable HTTP transport, as an agent's MCP client makes it
 * through a gateway, with the agent's bearer token: the verification probe of the MCP gateway
 * connector. It tells a call the gateway refused (authentication, authorization, a tool it does
 * not serve to this caller) from one it served, whatever the tool answered; anything else (the
 * gateway unreachable or failing) throws, so verification fails rather than guessing.
 */
import { ConnectorError } from './types';

export interface ToolCallOutcome {
  refused: boolean;
  detail: string;
}

interface JsonRpcReply {
  error?: { code: number; message: string };
  result?: { isError?: boolean; content?: { type: string; text?: string }[] };
}

/** ContextForge's words when it refuses a call it did not forward to the MCP server. */
const REFUSAL = /tool not found|access denied|not authorized|unauthori[sz]ed|forbidden|disabled|permission/i;

export async function mcpToolCall(o: {
  url: string;
  token: string;
  tool: string;
  args: Record<string, unknown>;
  timeoutMs: number;
}): Promise<ToolCallOutcome> {
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${o.token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: o.tool, arguments: o.args },
      }),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    throw new ConnectorError(`MCP gateway ${o.url} unreachable: ${(err as Error).message}`, true);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403 || res.status === 404)
    return { refused: true, detail: `HTTP ${res.status} ${text.slice(0, 120)}` };
  if (!res.ok)
    throw new ConnectorError(`MCP gateway ${o.url} answered ${res.status}: ${text.slice(0, 200)}`, true);
  const reply = parseReply(text, res.headers.get('content-type') ?? '');
  if (!reply)
    throw new ConnectorError(`MCP gateway ${o.url}: no JSON-RPC reply in ${text.slice(0, 200)}`, true);
  if (reply.error)
    return { refused: REFUSAL.test(reply.error.message), detail: `error ${reply.error.message}` };
  const said = (reply.result?.content ?? [])
    .map((c) => c.text ?? '')
    .join(' ')
    .slice(0, 120);
  if (reply.result?.isError) return { refused: REFUSAL.test(said), detail: `tool error: ${said}` };
  return { refused: false, detail: 'result' };
}

/** The reply as JSON, or as the `data:` of the server-sent event that carries it. */
function parseReply(text: string, contentType: string): JsonRpcReply | undefined {
  const candidates = contentType.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
    : [text];
  for (const c of candidates) {
    try {
      const m = JSON.parse(c) as JsonRpcReply & { id?: unknown };
      if (m.result !== undefined || m.error !== undefined) return m;
    } catch {
      // not a JSON-RPC message
    }
  }
  return undefined;
}
