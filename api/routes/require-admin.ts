/**
 * The one auth check for the agent and evidence APIs: the admin bearer token for now. When
 * scoped tokens land (`requireScope`), swap this function's body and keep its call sites.
 */
import type { MiddlewareHandler } from 'hono';
import type { Credentials } from '../../app/credentials';
import { bearerToken, safeEqual } from '../auth';
import { apiError } from '../errors';

export function requireAdmin(credentials: Credentials, _scope: string): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !safeEqual(token, credentials.adminToken)) {
      throw apiError(401, 'unauthorized', 'missing or invalid API token');
    }
    await next();
  };
}
