/**
 * A real OpenID provider on loopback for the console's tests: npm `oidc-provider` with one
 * confidential client (authorization code + PKCE), test users with groups and roles, and a login
 * page of its own. A user signs in with a password; a user enrolled in MFA may also give a
 * one-time code, and the ID token's `amr` is then `["pwd","otp"]` (else `["pwd"]`). Consent is
 * granted for the client's scopes without a prompt, as an organisation's own IdP does.
 */
import http from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../../app/free-port';

export interface IdpUser {
  sub: string;
  username: string;
  password: string;
  name: string;
  groups: string[];
  roles: string[];
  /** The one-time code this user's second factor accepts; absent: not enrolled in MFA. */
  otp?: string;
}

export const IDP_USERS: IdpUser[] = [
  {
    sub: 'u-dana',
    username: 'dana',
    password: 'dana-password',
    name: 'Dana Commander',
    groups: ['S0SECLEADS'],
    roles: ['ic'],
    otp: '424242',
  },
  {
    sub: 'u-sam',
    username: 'sam',
    password: 'sam-password',
    name: 'Sam Responder',
    groups: ['S0SECLEADS'],
    roles: [],
  },
];

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

const page = (uid: string, error = '') => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test IdP sign-in</title></head><body><h1>Test IdP</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<label for="otp">One-time code (if enrolled)</label><input id="otp" name="otp" inputmode="numeric">
<button type="submit">Sign in</button></form></body></html>`;

async function formOf(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the IdP on a free port (or `port`); `redirectUris` are the client's callback URLs. */
export async function startTestIdp(opts: { port?: number; redirectUris: string[] }): Promise<TestIdp> {
  const port = opts.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'firebreak-console';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        require_auth_time: true,
      },
    ],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'groups'],
    // amr and acr go with the openid scope, as most IdPs put them in every ID token (oidc-provider
    // otherwise includes them only when the claims parameter asks for them).
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      iss: null,
      openid: ['sub', 'amr', 'acr'],
      profile: ['name', 'preferred_username'],
      groups: ['groups', 'roles'],
    },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    acrValues: ['urn:firebreak:mfa'],
    cookies: { keys: ['test-idp-cookie-key-0123456789'] },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => {
      const u = IDP_USERS.find((x) => x.sub === sub);
      if (!u) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          name: u.name,
          preferred_username: u.username,
          groups: u.groups,
          roles: u.roles,
        }),
      };
    },
    loadExistingGrant: async (ctx: {
      oidc: { client: { clientId: string }; session: { accountId: string } };
    }) => {
      const grant = new provider.Grant({
        accountId: ctx.oidc.session.accountId,
        clientId: ctx.oidc.client.clientId,
      });
      grant.addOIDCScope('openid profile groups');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(req.url ?? '');
    if (!m) return callback(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(page(details.uid));
        }
        const form = await formOf(req);
        const u = IDP_USERS.find((x) => x.username === form.get('username'));
        if (!u || u.password !== form.get('password')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(page(details.uid, 'Wrong username or password'));
        }
        const otp = form.get('otp');
        if (otp && otp !== u.otp) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(page(details.uid, 'Wrong one-time code'));
        }
        const amr = otp ? ['pwd', 'otp'] : ['pwd'];
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: u.sub, amr, ...(otp ? { acr: 'urn:firebreak:mfa' } : {}) } },
          { mergeWithLastSubmission: false },
        );
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
