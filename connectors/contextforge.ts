/**
 * The few calls of IBM ContextForge's admin REST API that the MCP gateway connector makes, with an
 * admin API token: a user's active flag (`/auth/email/admin/users/{email}`), a virtual server's
 * tools (`/servers/{id}/tools`, `PUT /servers/{id}`) and tool lookups (`/tools`). Failures become
 * ConnectorErrors that name the call and say what to check.
 */
import { z } from 'zod';
import { ConnectorError } from './types';

const Tool = z.object({ id: z.string(), name: z.string(), originalName: z.string() }).loose();
export type GatewayTool = z.output<typeof Tool>;
const User = z.object({ email: z.string(), is_active: z.boolean() }).loose();

export interface ContextForgeOptions {
  url: string;
  token: string;
  timeoutMs: number;
}

export function contextForgeClient(o: ContextForgeOptions) {
  async function call<T>(schema: z.ZodType<T>, method: string, route: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${o.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (err) {
      throw new ConnectorError(`ContextForge at ${o.url} unreachable: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? ' (check the ContextForge admin token)' : '';
      throw new ConnectorError(
        `ContextForge ${method} ${route} answered ${res.status}${hint}: ${text.slice(0, 200)}`,
        res.status >= 500 || res.status === 429,
      );
    }
    const parsed = schema.safeParse(text ? JSON.parse(text) : undefined);
    if (!parsed.success)
      throw new ConnectorError(`ContextForge ${method} ${route}: unexpected answer ${text.slice(0, 200)}`);
    return parsed.data;
  }
  const user = (email: string) => `/auth/email/admin/users/${encodeURIComponent(email)}`;
  const server = (id: string) => `/servers/${encodeURIComponent(id)}`;
  return {
    userActive: async (email: string) => (await call(User, 'GET', user(email))).is_active,
    setUserActive: async (email: string, active: boolean) => {
      await call(User, 'PATCH', user(email), { is_active: active });
    },
    serverTools: (id: string) => call(z.array(Tool), 'GET', `${server(id)}/tools`),
    setServerTools: async (id: string, toolIds: string[]) => {
      await call(z.unknown(), 'PUT', server(id), { associated_tools: toolIds });
    },
    tool: (id: string) => call(Tool.optional(), 'GET', `/tools/${encodeURIComponent(id)}`),
    /** A tool by the MCP server's name for it, or ContextForge's. */
    findTool: async (name: string) =>
      (await call(z.array(Tool), 'GET', '/tools')).find((t) => t.originalName === name || t.name === name),
  };
}
