/**
 * The console's OpenID Connect relying party (openid-client): authorization code flow with PKCE
 * (S256), state and nonce, against any standard IdP named by its issuer URL. Discovery runs on the
 * first sign-in and is retried on the next one if the IdP was down. A step-up sign-in sends
 * `prompt=login`, `max_age` and the configured `acr_values`, and openid-client checks the
 * returned `auth_time` against that `max_age`. ID-token claims become a ConsoleUser: the user id,
 * name, roles (through FIREBREAK_OIDC_ROLE_MAP when set) and groups come from configured claims;
 * a config-file user with the same id adds its roles and Slack link.
 */
import * as client from 'openid-client';
import type { OidcConfig } from '../../app/config';
import type { PeopleDirectory } from '../../domain/people';
import type { ConsoleUser } from './session';

/** What a sign-in under way keeps until the IdP calls back (a `login` row). */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  stepUp: boolean;
  redirectUri: string;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

export class OidcRelyingParty {
  private discovered: Promise<client.Configuration> | undefined;

  constructor(
    private readonly cfg: OidcConfig,
    private readonly stepUpWindowMs: number,
  ) {}

  get issuer(): string {
    return this.cfg.issuer;
  }

  private configuration(): Promise<client.Configuration> {
    const issuer = new URL(this.cfg.issuer);
    this.discovered ??= client
      .discovery(
        issuer,
        this.cfg.clientId,
        this.cfg.clientSecret,
        undefined,
        // Plain http only for a loopback issuer (config refuses any other): the tests' local IdP.
        issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.discovered = undefined;
        throw err;
      });
    return this.discovered;
  }

  redirectUri(requestOrigin: string): string {
    return this.cfg.redirectUrl ?? new URL('/console/auth/callback', requestOrigin).href;
  }

  /** The IdP URL to send the browser to, and what to keep until it comes back. */
  async start(
    returnTo: string,
    stepUp: boolean,
    redirectUri: string,
  ): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const pending: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier,
      returnTo,
      stepUp,
      redirectUri,
    };
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: this.cfg.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    };
    if (stepUp) {
      params.prompt = 'login';
      params.max_age = String(Math.floor(this.stepUpWindowMs / 1000));
      if (this.cfg.stepUpAcr) params.acr_values = this.cfg.stepUpAcr;
    }
    return { url: client.buildAuthorizationUrl(config, params), pending };
  }

  /** Exchanges the code at `callbackUrl` and checks state, nonce, PKCE and (step-up) auth_time. */
  async finish(callbackUrl: URL, pending: PendingLogin): Promise<Record<string, unknown>> {
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(pending.stepUp ? { maxAge: Math.floor(this.stepUpWindowMs / 1000) } : {}),
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the IdP returned no ID token');
    return claims as Record<string, unknown>;
  }

  /** The console user these ID-token claims describe. */
  userOf(claims: Record<string, unknown>, people: PeopleDirectory): ConsoleUser {
    const sub = String(claims.sub);
    const id = strings(claims[this.cfg.userClaim])[0] ?? sub;
    const rawRoles = strings(claims[this.cfg.rolesClaim]);
    const groups = strings(claims[this.cfg.groupsClaim]);
    const map = this.cfg.roleMap;
    const idpRoles = map ? [...rawRoles, ...groups].flatMap((v) => map[v] ?? []) : rawRoles;
    const local = people.configUser(id);
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : undefined;
    return {
      id,
      name: strings(claims[this.cfg.nameClaim])[0] ?? local?.name ?? id,
      slackUserId: local?.slackUserId,
      roles: [...new Set([...idpRoles, ...(local?.roles ?? [])])],
      groups,
      scopes: ['read', 'respond'],
      via: 'oidc',
      sub,
      auth: {
        method: 'session',
        amr: strings(claims.amr),
        ...(authTime !== undefined ? { authTimeMs: authTime } : {}),
      },
    };
  }
}
