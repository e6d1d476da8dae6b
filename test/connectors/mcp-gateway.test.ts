/**
 * The MCP gateway connector's parts that need no ContextForge: its configuration (file section,
 * `token_env`, environment overrides) and how a probe tool call is read (refused or served).
 * test/integration/mcp-gateway.test.ts runs the connector against a real ContextForge.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';
import { mcpToolCall } from '../../connectors/mcp-tool-call';
import { ConnectorError } from '../../connectors/types';
import { localServer, readBody } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-mcpgw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('MCP gateway configuration', () => {
  const file = path.join(dir, 'firebreak.yaml');
  fs.writeFileSync(
    file,
    [
      'connectors:',
      '  mcp_gateway:',
      '    url: http://contextforge.internal:4444',
      '    token_env: CF_ADMIN',
      '    agents:',
      '      - agent_id: support-bot',
      '        user_email: support-bot@agents.example.com',
      '        server_id: 9f2c',
      '        token_env: SUPPORT_BOT_MCP',
      '        probe_tool: lookup',
      '        probe_arguments: { name: faq }',
    ].join('\n'),
  );
  const env = {
    DATA_DIR: dir,
    FIREBREAK_CONFIG: file,
    CF_ADMIN: 'admin-token',
    SUPPORT_BOT_MCP: 'agent-token',
  };

  it('reads the section, resolves token_env, and lets the environment override url and token', () => {
    expect(loadConfig(env).connectors.mcpGateway).toMatchObject({
      url: 'http://contextforge.internal:4444',
      token: 'admin-token',
      agents: [{ agent_id: 'support-bot', token: 'agent-token', probe_arguments: { name: 'faq' } }],
    });
    const over = loadConfig({
      ...env,
      FIREBREAK_MCP_GATEWAY_URL: 'http://127.0.0.1:4444',
      FIREBREAK_MCP_GATEWAY_TOKEN: 'other-admin-token',
    }).connectors.mcpGateway;
    expect(over).toMatchObject({ url: 'http://127.0.0.1:4444', token: 'other-admin-token' });
  });

  it('names a token_env that is not set', () => {
    const { SUPPORT_BOT_MCP: _unset, ...rest } = env;
    expect(() => loadConfig(rest)).toThrow(ConfigError);
    expect(() => loadConfig(rest)).toThrow(/connectors\.mcp_gateway\.agents\.0\.token_env.*SUPPORT_BOT_MCP/);
    fs.writeFileSync(
      path.join(dir, 'no-token.yaml'),
      fs.readFileSync(file, 'utf8').replace(/ +token_env: SUPPORT_BOT_MCP\n/, ''),
    );
    expect(() => loadConfig({ ...env, FIREBREAK_CONFIG: path.join(dir, 'no-token.yaml') })).toThrow(
      /connectors\.mcp_gateway\.agents\.0: give token or token_env/,
    );
  });

  it('is absent without a url', () => {
    expect(loadConfig({ DATA_DIR: dir }).connectors.mcpGateway).toBeUndefined();
  });
});

describe('a probe tool call through an MCP gateway', () => {
  const reply = (result: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, result });
  const answers: Record<string, { status: number; type: string; body: string }> = {
    '/ok': { status: 200, type: 'application/json', body: reply({ content: [{ type: 'text', text: 'x' }] }) },
    '/disabled': { status: 401, type: 'application/json', body: '{"detail":"Account disabled"}' },
    '/not-served': {
      status: 200,
      type: 'text/event-stream',
      body: `event: message\ndata: ${reply({ isError: true, content: [{ type: 'text', text: 'Tool not found: q' }] })}\n\n`,
    },
    '/tool-error': {
      status: 200,
      type: 'application/json',
      body: reply({ isError: true, content: [{ type: 'text', text: 'Field required: customer' }] }),
    },
    '/broken': { status: 502, type: 'text/plain', body: 'bad gateway' },
  };
  const seen: unknown[] = [];
  const server = localServer(async (rq, rs) => {
    seen.push({ auth: rq.headers.authorization, body: JSON.parse(await readBody(rq)) as unknown });
    const a = answers[rq.url ?? '']!;
    rs.writeHead(a.status, { 'content-type': a.type }).end(a.body);
  });
  afterAll(async () => (await server).close());
  const call = async (route: string) =>
    mcpToolCall({
      url: `${(await server).url}${route}`,
      token: 'tok',
      tool: 'q',
      args: { a: 1 },
      timeoutMs: 5000,
    });

  it('sends tools/call with the bearer token and reads refusals apart from served calls', async () => {
    expect(await call('/ok')).toMatchObject({ refused: false });
    expect(seen[0]).toMatchObject({
      auth: 'Bearer tok',
      body: { jsonrpc: '2.0', method: 'tools/call', params: { name: 'q', arguments: { a: 1 } } },
    });
    expect(await call('/disabled')).toMatchObject({ refused: true, detail: expect.stringMatching(/401/) });
    expect(await call('/not-served')).toMatchObject({ refused: true });
    // The tool itself answered (here, its argument validation): the gateway let the call through.
    expect(await call('/tool-error')).toMatchObject({ refused: false });
  });

  it('throws on a gateway failure, so verification fails instead of guessing', async () => {
    await expect(call('/broken')).rejects.toThrow(ConnectorError);
    await expect(
      mcpToolCall({ url: 'http://127.0.0.1:1/mcp', token: 't', tool: 'q', args: {}, timeoutMs: 2000 }),
    ).rejects.toThrow(/unreachable/);
  });
});
