/**
 * An enforcement point in front of an MCP server (streamable HTTP transport): a reverse proxy that
 * asks OPA, for every JSON-RPC `tools/call`, whether this agent may call this tool
 * (policies/firebreak.rego, `POST /v1/data/firebreak/authz/decision`), and answers a JSON-RPC
 * error instead of forwarding when the answer is deny, OPA cannot be reached, or its answer is not
 * a decision (fail closed). The agent is whoever its bearer token belongs to, or, for a token
 * shared by several agents, the one its `X-Agent-Id` header names among those: a runtime cannot
 * name an agent outside its token, and a compromised one cannot skip the check, because it holds
 * no route to the MCP server but this proxy. Everything else (initialize, tools/list, the GET event stream,
 * DELETE of a session) is forwarded unchanged. Depends on Node built-ins only.
 *
 * The input names the call as well as the agent and tool (`tool_call`: the agent's own call id
 * from `params._meta["gen_ai.tool.call.id"]` when it sends one, the JSON-RPC id, and the SHA-256
 * of the arguments' JSON), so that OPA's decision log, uploaded to Firebreak, is a record of every
 * call the agent made or attempted, each matched to the agent's own trace of it.
 */
import crypto from 'node:crypto';
import http from 'node:http';

export interface ProxyOptions {
  /** The MCP server's endpoint, e.g. http://127.0.0.1:3000/mcp. */
  upstream: string;
  /** The OPA server holding Firebreak's data and policy. */
  opaUrl: string;
  opaToken?: string;
  /**
   * Bearer token → the agent it belongs to, or the agents it may speak for (the request then names
   * one in `X-Agent-Id`).
   */
  agents: Record<string, string | string[]>;
  opaTimeoutMs?: number;
}

/** JSON-RPC error code of a refused tool call (in the implementation-defined server range). */
export const REFUSED = -32001;

interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: { name?: unknown; arguments?: unknown; _meta?: Record<string, unknown> };
}

/** The agent's call id: the `_meta` key the example agents send (their span's `gen_ai.tool.call.id`). */
export const CALL_ID_META = 'gen_ai.tool.call.id';

/** What OPA's input says about the call, beside the agent and tool. */
function toolCallInput(m: JsonRpcMessage) {
  const callId = m.params?._meta?.[CALL_ID_META];
  return {
    id: typeof callId === 'string' ? callId : null,
    jsonrpc_id: m.id ?? null,
    arguments_sha256: crypto
      .createHash('sha256')
      .update(JSON.stringify(m.params?.arguments ?? {}))
      .digest('hex'),
  };
}

/** OPA's answer for one call: allowed, or why not. */
async function decide(o: ProxyOptions, agentId: string, m: JsonRpcMessage): Promise<string | undefined> {
  const tool = m.params?.name;
  if (typeof tool !== 'string') return 'tools/call without a tool name';
  let res: Response;
  try {
    res = await fetch(`${o.opaUrl.replace(/\/$/, '')}/v1/data/firebreak/authz/decision`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(o.opaToken ? { authorization: `Bearer ${o.opaToken}` } : {}),
      },
      body: JSON.stringify({ input: { agent_id: agentId, tool, tool_call: toolCallInput(m) } }),
      signal: AbortSignal.timeout(o.opaTimeoutMs ?? 2000),
    });
  } catch (err) {
    return `policy unavailable (${(err as Error).message})`;
  }
  if (!res.ok) return `policy unavailable (OPA answered ${res.status})`;
  const body = (await res.json().catch(() => ({}))) as {
    result?: { allow?: unknown; reasons?: unknown };
  };
  if (body.result?.allow === true) return undefined;
  const reasons = Array.isArray(body.result?.reasons) ? body.result.reasons.join(', ') : '';
  return body.result ? `denied by policy${reasons ? `: ${reasons}` : ''}` : 'no policy decision';
}

/** Bodies above this are refused unread: a tool call is never forwarded unchecked. */
const MAX_BODY = 4 * 1024 * 1024;

/** The whole body, or undefined when it exceeds MAX_BODY. */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size <= MAX_BODY ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Forwards the request (with the body already read) and streams the answer back. */
function forward(o: ProxyOptions, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
  const target = new URL(o.upstream);
  const headers = { ...req.headers, host: target.host };
  delete headers.authorization; // the agent's proxy token is not a credential for the MCP server
  delete headers['transfer-encoding']; // the body is sent whole, with its length
  headers['content-length'] = String(body.length);
  const up = http.request(target, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', (err) => {
    if (!res.headersSent) sendJson(res, 502, { error: `MCP server unreachable: ${err.message}` });
    else res.destroy(err);
  });
  res.on('close', () => up.destroy());
  up.end(body);
}

/** The refusals for the tool calls among `messages`, or none when every call is allowed. */
async function refusals(o: ProxyOptions, agentId: string, messages: JsonRpcMessage[]) {
  const calls = messages.filter((m) => m?.method === 'tools/call');
  const answers = await Promise.all(calls.map((m) => decide(o, agentId, m)));
  const refused = calls.flatMap((m, i) => (answers[i] === undefined ? [] : [{ m, why: answers[i] }]));
  if (refused.length === 0) return undefined;
  // One refused call refuses the whole message: nothing of it reaches the MCP server.
  return calls.map((m) => ({
    jsonrpc: '2.0',
    id: m.id ?? null,
    error: {
      code: REFUSED,
      message: `tool call refused: ${refused.find((r) => r.m === m)?.why ?? 'another call in this batch was refused'}`,
    },
  }));
}

/** The calling agent: the token's own, or the one X-Agent-Id names within the token's scope. */
function agentOf(o: ProxyOptions, req: http.IncomingMessage): string | undefined {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined || !Object.hasOwn(o.agents, token)) return undefined;
  const scope = o.agents[token]!;
  const named = req.headers['x-agent-id'];
  if (typeof scope === 'string') return named === undefined || named === scope ? scope : undefined;
  return typeof named === 'string' && scope.includes(named) ? named : undefined;
}

export function createProxy(o: ProxyOptions): http.Server {
  return http.createServer(async (req, res) => {
    const agentId = agentOf(o, req);
    if (!agentId) return sendJson(res, 401, { error: 'unknown agent token' });
    const body = await readBody(req);
    if (!body) return sendJson(res, 413, { error: `request body over ${MAX_BODY} bytes` });
    if (req.method !== 'POST') return forward(o, req, res, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return sendJson(res, 400, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'parse error' },
      });
    }
    const batch = Array.isArray(parsed);
    const refused = await refusals(o, agentId, (batch ? parsed : [parsed]) as JsonRpcMessage[]);
    if (!refused) return forward(o, req, res, body);
    return sendJson(res, 200, batch ? refused : refused[0]);
  });
}
