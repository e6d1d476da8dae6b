/**
 * A tiny MCP tool server (the MCP TypeScript SDK's McpServer over streamable HTTP, stateless)
 * for the demo and for trying the example agent without Python: tools `search` and
 * `send_email`, each successful call appended as one JSON line (tool, args, time, caller: the
 * `X-Agent-Id` header, as examples/mcp-server logs it) to a log file (when given), which
 * is how the demo shows that no call gets through after the kill switch. The Python example
 * server (examples/mcp-server) is the one the integration tests use.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  time: string;
  caller: string | null;
}

export interface ToolServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  /** Successful calls so far. */
  calls(): ToolCall[];
  close(): Promise<void>;
}

function mcpServer(record: (tool: string, args: Record<string, unknown>) => void): McpServer {
  const server = new McpServer({ name: 'firebreak-demo-tools', version: '1.0.0' });
  server.registerTool(
    'search',
    { description: 'Searches the knowledge base', inputSchema: { query: z.string() } },
    ({ query }) => {
      record('search', { query });
      return { content: [{ type: 'text', text: `3 results for ${query}` }] };
    },
  );
  server.registerTool(
    'send_email',
    { description: 'Sends an email to a customer', inputSchema: { to: z.string(), body: z.string() } },
    ({ to, body }) => {
      record('send_email', { to, body });
      return { content: [{ type: 'text', text: `sent to ${to}` }] };
    },
  );
  return server;
}

export async function startToolServer(opts: { logFile?: string; port?: number } = {}): Promise<ToolServer> {
  const calls: ToolCall[] = [];
  const recorder = (caller: string | null) => (tool: string, args: Record<string, unknown>) => {
    const call = { tool, args, time: new Date().toISOString(), caller };
    calls.push(call);
    if (opts.logFile) fs.appendFileSync(opts.logFile, `${JSON.stringify(call)}\n`);
  };
  const httpServer = http.createServer((req, res) => {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    // Stateless: one server and transport per request, as the SDK's stateless example does.
    const caller = req.headers['x-agent-id'];
    const server = mcpServer(recorder(typeof caller === 'string' ? caller : null));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => httpServer.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls: () => [...calls],
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  };
}
