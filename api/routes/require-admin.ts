/**
 * The one auth check for the agent and evidence APIs: the admin bearer token for now. Call sites
 * already name the scope they need (`read` to list, `admin` to change the inventory), so when
 * scoped tokens land this body becomes `return requireScope(scope)` and nothing else changes.
 */
import type { MiddlewareHandler } from 'hono';
import type { Credentials } from '../../app/credentials';
import { bearerToken, safeEqual } from '../auth';
import { apiError } from '../errors';

export type RouteScope = 'read' | 'respond' | 'admin';

export function requireAdmin(credentials: Credentials, _scope: RouteScope): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !safeEqual(token, credentials.adminToken)) {
      throw apiError(401, 'unauthorized', 'missing or invalid API token');
    }
    await next();
  };
}
