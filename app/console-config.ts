/**
 * The web console's part of the configuration (api/console/): the OpenID Connect relying party
 * (issuer, client, redirect, which ID-token claims carry the user, roles and groups, and how IdP
 * values map onto playbook roles), session lifetime, local sign-in with a config user's token,
 * and the MFA step-up rule for irreversible and containment-releasing decisions. Parsed by
 * app/config.ts with the rest of the environment; a bad value names its variable.
 */
import { z } from 'zod';
import { DEFAULT_SECOND_FACTOR_AMR, DEFAULT_STEP_UP_WINDOW_MS, type StepUpPolicy } from '../domain/step-up';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? fallback
        : v
            .split(/[\s,]+/)
            .map((x) => x.trim())
            .filter(Boolean),
    );

export const ConsoleEnv = {
  FIREBREAK_OIDC_ISSUER: z.url().optional(),
  FIREBREAK_OIDC_CLIENT_ID: z.string().min(1).optional(),
  FIREBREAK_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  FIREBREAK_OIDC_REDIRECT_URL: z.url().optional(),
  FIREBREAK_OIDC_SCOPES: z.string().min(1).default('openid profile email'),
  FIREBREAK_OIDC_USER_CLAIM: z.string().min(1).default('preferred_username'),
  FIREBREAK_OIDC_NAME_CLAIM: z.string().min(1).default('name'),
  FIREBREAK_OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  FIREBREAK_OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  FIREBREAK_OIDC_ROLE_MAP: z.string().optional(),
  FIREBREAK_OIDC_STEP_UP_ACR: z.string().min(1).optional(),
  FIREBREAK_OIDC_MFA_AMR: list(DEFAULT_SECOND_FACTOR_AMR),
  FIREBREAK_STEP_UP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(86_400)
    .default(DEFAULT_STEP_UP_WINDOW_MS / 1000),
  FIREBREAK_CONSOLE_SESSION_SECONDS: z.coerce.number().int().min(60).max(604_800).default(28_800),
  FIREBREAK_CONSOLE_LOCAL_LOGIN: bool.default(true),
};

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  /** undefined: `<PUBLIC_URL>/console/auth/callback`, else the origin the browser used. */
  redirectUrl: string | undefined;
  scopes: string;
  userClaim: string;
  nameClaim: string;
  rolesClaim: string;
  groupsClaim: string;
  /**
   * IdP role or group value → the playbook roles it grants. undefined: role claim values are
   * roles as they are; with a map, only mapped values grant roles.
   */
  roleMap: Record<string, string[]> | undefined;
  /** `acr_values` sent when stepping up (the IdP's name for a multi-factor sign-in). */
  stepUpAcr: string | undefined;
}

export interface ConsoleConfig {
  oidc: OidcConfig | undefined;
  /** The public origin (PUBLIC_URL), for redirect URLs and the Origin check; undefined: the request's. */
  publicUrl: string | undefined;
  sessionTtlMs: number;
  /** Sign in with a config-file user's API token (never the admin token). */
  localLogin: boolean;
  stepUp: StepUpPolicy;
}

const RoleMap = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

type Env = z.output<z.ZodObject<typeof ConsoleEnv>> & { PUBLIC_URL?: string | undefined };

export function parseConsoleConfig(e: Env): ConsoleConfig {
  const problems: string[] = [];
  let roleMap: Record<string, string[]> | undefined;
  if (e.FIREBREAK_OIDC_ROLE_MAP) {
    let json: unknown;
    try {
      json = JSON.parse(e.FIREBREAK_OIDC_ROLE_MAP);
    } catch {
      problems.push('FIREBREAK_OIDC_ROLE_MAP: must be JSON like {"secops-leads":["incident_commander"]}');
    }
    const parsed = RoleMap.safeParse(json);
    if (json !== undefined && !parsed.success)
      problems.push('FIREBREAK_OIDC_ROLE_MAP: values must be role names');
    if (parsed.success)
      roleMap = Object.fromEntries(
        Object.entries(parsed.data).map(([k, v]) => [k, typeof v === 'string' ? [v] : v]),
      );
  }
  const someOidc = e.FIREBREAK_OIDC_ISSUER ?? e.FIREBREAK_OIDC_CLIENT_ID;
  if (someOidc && !e.FIREBREAK_OIDC_ISSUER)
    problems.push('FIREBREAK_OIDC_ISSUER: required with FIREBREAK_OIDC_CLIENT_ID');
  if (someOidc && !e.FIREBREAK_OIDC_CLIENT_ID)
    problems.push('FIREBREAK_OIDC_CLIENT_ID: required with FIREBREAK_OIDC_ISSUER');
  if (e.FIREBREAK_OIDC_ISSUER) {
    const u = new URL(e.FIREBREAK_OIDC_ISSUER);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (u.protocol !== 'https:' && !loopback)
      problems.push('FIREBREAK_OIDC_ISSUER: must be https (plain http only on loopback, for tests)');
  }
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    oidc:
      e.FIREBREAK_OIDC_ISSUER && e.FIREBREAK_OIDC_CLIENT_ID
        ? {
            issuer: e.FIREBREAK_OIDC_ISSUER,
            clientId: e.FIREBREAK_OIDC_CLIENT_ID,
            clientSecret: e.FIREBREAK_OIDC_CLIENT_SECRET,
            redirectUrl:
              e.FIREBREAK_OIDC_REDIRECT_URL ??
              (e.PUBLIC_URL ? new URL('/console/auth/callback', e.PUBLIC_URL).href : undefined),
            scopes: e.FIREBREAK_OIDC_SCOPES,
            userClaim: e.FIREBREAK_OIDC_USER_CLAIM,
            nameClaim: e.FIREBREAK_OIDC_NAME_CLAIM,
            rolesClaim: e.FIREBREAK_OIDC_ROLES_CLAIM,
            groupsClaim: e.FIREBREAK_OIDC_GROUPS_CLAIM,
            roleMap,
            stepUpAcr: e.FIREBREAK_OIDC_STEP_UP_ACR,
          }
        : undefined,
    publicUrl: e.PUBLIC_URL,
    sessionTtlMs: e.FIREBREAK_CONSOLE_SESSION_SECONDS * 1000,
    localLogin: e.FIREBREAK_CONSOLE_LOCAL_LOGIN,
    stepUp: {
      windowMs: e.FIREBREAK_STEP_UP_WINDOW_SECONDS * 1000,
      secondFactorAmr: e.FIREBREAK_OIDC_MFA_AMR,
    },
  };
}
