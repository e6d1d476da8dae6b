/**
 * MFA step-up: which decisions need a recent multi-factor sign-in, and whether the authentication
 * behind a request gives one. A decision needs it when it approves an action the catalog marks
 * `irreversible` (credentials.rotate), approves an action that undoes a containment (agent.enable,
 * credentials.reactivate, access.restore: a release), or is itself a release. The edges that sign
 * decisions (api/decide.ts for the API and the console, the Slack receiver) check it before they
 * sign: the workflow trusts their signature, so the rule is enforced where the person is known.
 */
import { ACTION_CATALOG, isActionName, type ActionMeta } from './action-catalog';

/** How recent the multi-factor sign-in must be (the ID token's `auth_time`). */
export const DEFAULT_STEP_UP_WINDOW_MS = 5 * 60_000;

/**
 * `amr` values (RFC 8176) that count as a second factor: `mfa` itself, or a factor that is not a
 * password or a PIN (one-time code, hardware or software key, smart card, SMS, phone, biometrics).
 */
export const DEFAULT_SECOND_FACTOR_AMR = [
  'mfa',
  'otp',
  'hwk',
  'swk',
  'sc',
  'sms',
  'tel',
  'fpt',
  'face',
  'iris',
];

/** How a request was authenticated, as the edge that received it knows it. */
export interface Authentication {
  /**
   * `admin`: FIREBREAK_ADMIN_TOKEN; `token`: a config-file user token; `session`: a console
   * sign-in (OpenID Connect, or a local user's token); `issued`: a short-lived API token the
   * console issued to a signed-in user (it carries that sign-in's `amr` and `auth_time`).
   */
  method: 'admin' | 'token' | 'session' | 'issued';
  /** The sign-in's authentication methods (OIDC `amr`); [] when unknown. */
  amr: string[];
  /** When the person last authenticated at the IdP (OIDC `auth_time`, epoch ms). */
  authTimeMs?: number;
}

export interface StepUpPolicy {
  windowMs: number;
  secondFactorAmr: string[];
}

export const DEFAULT_STEP_UP_POLICY: StepUpPolicy = {
  windowMs: DEFAULT_STEP_UP_WINDOW_MS,
  secondFactorAmr: DEFAULT_SECOND_FACTOR_AMR,
};

/** Whether `name` undoes a containment action (its catalog `undo`): running it releases containment. */
export function releasesContainment(name: string): boolean {
  return Object.values(ACTION_CATALOG).some((m: ActionMeta) => m.contains === true && m.undo === name);
}

export function isIrreversible(name: string): boolean {
  return isActionName(name) && (ACTION_CATALOG[name] as ActionMeta).irreversible === true;
}

/**
 * Why a decision needs a step-up, as a rule a person can read, or undefined when it does not.
 * Only an approval lets actions run, so a rejection never needs one.
 */
export function stepUpRule(
  kind: string,
  decision: 'approve' | 'reject' | undefined,
  actions: readonly string[],
): string | undefined {
  if (kind !== 'approval' || decision !== 'approve') return undefined;
  const irreversible = actions.find(isIrreversible);
  if (irreversible)
    return `approving ${irreversible} (irreversible in the action catalog) needs a recent multi-factor sign-in`;
  const release = actions.find(releasesContainment);
  if (release) return `approving ${release} (it releases containment) needs a recent multi-factor sign-in`;
  return undefined;
}

/** What is missing from `auth` for a step-up decision at `nowMs`, or undefined when nothing is. */
export function stepUpProblem(
  auth: Authentication | undefined,
  policy: StepUpPolicy,
  nowMs: number,
): string | undefined {
  const minutes = Math.round(policy.windowMs / 60_000);
  if (!auth || auth.method === 'admin')
    return 'the admin token cannot make this decision: use a short-lived user token the console issues after a multi-factor sign-in';
  if (auth.method === 'token')
    return 'a config-file API token cannot make this decision: use a short-lived user token the console issues after a multi-factor sign-in';
  if (!auth.amr.some((m) => policy.secondFactorAmr.includes(m)))
    return `the sign-in shows no second factor (amr: ${auth.amr.join(', ') || 'none'}): sign in again with one`;
  if (auth.authTimeMs === undefined)
    return 'the sign-in has no auth_time: sign in again with a second factor';
  if (nowMs - auth.authTimeMs > policy.windowMs)
    return `the last multi-factor sign-in was at ${new Date(auth.authTimeMs).toISOString()}, more than ${minutes} min ago: sign in again with a second factor`;
  return undefined;
}
