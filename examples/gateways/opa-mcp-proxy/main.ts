/**
 * Runs the OPA-checking MCP proxy: `npx tsx examples/gateways/opa-mcp-proxy/main.ts` with
 * UPSTREAM_URL (the MCP server's endpoint), OPA_URL, optional OPA_TOKEN, AGENT_TOKENS (JSON
 * `{"<bearer token>": "<agent id>" | ["<agent id>", …]}`: a token with a list speaks for the agent
 * its `X-Agent-Id` names among them), and PORT / HOST (default 127.0.0.1:8081).
 */
import { createProxy } from './proxy';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required (see examples/gateways/opa-mcp-proxy/README.md)`);
  return v;
}

const agents = JSON.parse(required('AGENT_TOKENS')) as Record<string, string | string[]>;
const server = createProxy({
  upstream: required('UPSTREAM_URL'),
  opaUrl: required('OPA_URL'),
  opaToken: process.env.OPA_TOKEN,
  agents,
});
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8081);
server.listen(port, host, () => {
  console.log(`opa-mcp-proxy on http://${host}:${port}, upstream ${process.env.UPSTREAM_URL}`);
});
