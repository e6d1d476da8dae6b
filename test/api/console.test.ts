/**
 * The web console end to end without a browser: sign-in through a real OpenID provider on
 * loopback (npm oidc-provider, test/helpers/oidc-provider.ts), pages behind the session, the
 * strict CSP, CSRF on forms, decisions through the same path as the API (an approval disables the
 * agent), and the MFA step-up rule: a rotation is refused to a sign-in without a recent second
 * factor, to the admin token and to a token issued to such a sign-in, and accepted after a
 * step-up sign-in with a one-time code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { getAgent } from '../../db/agents';
import { liveFor, importAgents } from '../connectors/fixtures';
import { ConsoleAgent, hiddenFields, oidcSignIn } from '../helpers/console-client';
import { IDP_USERS, startTestIdp, type TestIdp } from '../helpers/oidc-provider';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

let stack: TestStack;
let idp: TestIdp;
const dana = IDP_USERS.find((u) => u.username === 'dana')!;
const sam = IDP_USERS.find((u) => u.username === 'sam')!;

beforeAll(async () => {
  const idpPort = await freePort();
  stack = await startTestStack({
    env: {
      FIREBREAK_OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
      FIREBREAK_OIDC_CLIENT_ID: 'firebreak-console',
      FIREBREAK_OIDC_CLIENT_SECRET: 'test-client-secret-0123456789abcdef',
      FIREBREAK_OIDC_SCOPES: 'openid profile groups',
      FIREBREAK_OIDC_ROLE_MAP: JSON.stringify({ ic: ['incident_commander'] }),
    },
    liveConnectors: () => liveFor(stack),
  });
  idp = await startTestIdp({ port: idpPort, redirectUris: [`${stack.url}/console/auth/callback`] });
  await importAgents(stack, [
    {
      id: 'console-bot',
      name: 'Console bot',
      owner: 'owner@example.com',
      environment: 'prod',
      credentials: [
        { id: 'console-bot-key', provider: 'aws_iam', reference: 'console-bot/AKIACONSOLE0001', scopes: [] },
      ],
    },
  ]);
});
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});

async function openIncident(): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({
      title: 'Console bot key on a paste site',
      severity: 'medium',
      source: 'siem',
      dedup_key: `console-${Date.now()}`,
      agent_id: 'console-bot',
      labels: { incident_class: 'credential_leak', credential_id: 'console-bot-key' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

/** Waits until the incident page offers a form posting to `action`, and returns the page. */
async function pageWithForm(agent: ConsoleAgent, id: string, action: string): Promise<string> {
  return eventually(
    async () => {
      const { html } = await agent.follow(`${stack.url}/console/incidents/${id}`);
      return html.includes(`action="${action}"`) ? html : undefined;
    },
    30_000,
    `a form posting to ${action}`,
  );
}

describe('console', () => {
  it('sends a visitor without a session to sign in, with a strict CSP', async () => {
    const res = await new ConsoleAgent().request(`${stack.url}/console/incidents`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/console\/login\?return=/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`form-action 'self' ${idp.issuer}`);
    expect(csp).not.toContain('unsafe-inline');
  });

  it('signs in through the IdP with a Secure, HttpOnly, SameSite session cookie', async () => {
    const agent = new ConsoleAgent();
    const start = await agent.request(`${stack.url}/console/auth/start`);
    expect(start.status).toBe(302);
    const auth = new URL(start.headers.get('location')!);
    expect(auth.origin).toBe(idp.issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    const done = await oidcSignIn(agent, stack.url, sam);
    expect(done.url).toBe(`${stack.url}/console/incidents`);
    expect(done.html).toContain('Sam Responder');
    const cookie = (
      await new ConsoleAgent().request(`${stack.url}/console/login`)
    ).headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it('refuses a callback whose state was never issued', async () => {
    const res = await new ConsoleAgent().request(`${stack.url}/console/auth/callback?code=x&state=y`);
    expect(res.status).toBe(400);
  });

  it('approves containment from the console, refuses a rotation without a recent second factor, accepts it after a step-up', async () => {
    const id = await openIncident();
    const samAgent = new ConsoleAgent();
    await oidcSignIn(samAgent, stack.url, sam);
    const list = await samAgent.follow(`${stack.url}/console/incidents?mode=live&severity=medium`);
    expect(list.html).toContain(id);

    const approveDisable = `/console/incidents/${id}/approvals/approve_disable`;
    const page = await pageWithForm(samAgent, id, approveDisable);
    // Without the CSRF token the form is refused and nothing is decided.
    const forged = await samAgent.request(`${stack.url}${approveDisable}`, { form: { decision: 'approve' } });
    expect(forged.status).toBe(403);
    const ok = await samAgent.request(`${stack.url}${approveDisable}`, {
      form: { ...hiddenFields(page, approveDisable), decision: 'approve' },
    });
    expect(ok.status).toBe(303);
    await eventually(
      async () => (await getAgent(stack.db, 'console-bot'))?.status === 'disabled',
      30_000,
      'agent disabled',
    );
    const agents = await samAgent.follow(`${stack.url}/console/agents`);
    expect(agents.html).toMatch(/badge-disabled/);
    expect(agents.html).toContain(id);

    const task = `/console/incidents/${id}/tasks/scope_use/done`;
    const taskPage = await pageWithForm(samAgent, id, task);
    const taskDone = await samAgent.request(`${stack.url}${task}`, {
      form: { ...hiddenFields(taskPage, task), note: 'leak came from a CI log' },
    });
    expect(taskDone.status).toBe(303);

    const rotate = `/console/incidents/${id}/approvals/approve_rotate`;
    const rotatePage = await pageWithForm(samAgent, id, rotate);
    expect(rotatePage).toContain('credentials.rotate');
    // Sam's sign-in has no second factor: refused, with a way to step up.
    const refused = await samAgent.request(`${stack.url}${rotate}`, {
      form: { ...hiddenFields(rotatePage, rotate), decision: 'approve' },
    });
    expect(refused.status).toBe(403);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toContain('irreversible');
    expect(refusedHtml).toContain('no second factor');
    expect(refusedHtml).toContain('/console/auth/start?step_up=1');

    // Through the API: the admin token, and a token issued to a sign-in without MFA, are refused.
    const viaApi = (token: string) =>
      fetch(`${stack.url}/v1/incidents/${id}/approvals/approve_rotate`, {
        method: 'POST',
        headers: bearer(token),
        body: JSON.stringify({ decision: 'approve' }),
      });
    const admin = await viaApi(TEST_ADMIN_TOKEN);
    expect(admin.status).toBe(403);
    expect(((await admin.json()) as any).error).toMatchObject({
      code: 'step_up_required',
      message: expect.stringContaining('admin token cannot'),
    });
    const tokensPage = await samAgent.follow(`${stack.url}/console/tokens`);
    const issuedPage = await samAgent.follow(`${stack.url}/console/tokens`, {
      form: hiddenFields(tokensPage.html, '/console/tokens'),
    });
    const issued = /id="issued" readonly="" value="([^"]+)"|id="issued"[^>]*value="([^"]+)"/.exec(
      issuedPage.html,
    );
    const samToken = (issued?.[1] ?? issued?.[2])!;
    expect(samToken).toMatch(/^fbk_/);
    const samApi = await viaApi(samToken);
    expect(samApi.status).toBe(403);
    expect(((await samApi.json()) as any).error.message).toContain('no second factor');

    // Dana signs in with her password only: refused too; after a step-up with her code, accepted.
    const danaAgent = new ConsoleAgent();
    await oidcSignIn(danaAgent, stack.url, { username: dana.username, password: dana.password });
    const danaPage = await pageWithForm(danaAgent, id, rotate);
    const danaRefused = await danaAgent.request(`${stack.url}${rotate}`, {
      form: { ...hiddenFields(danaPage, rotate), decision: 'approve' },
    });
    expect(danaRefused.status).toBe(403);
    const stepped = await oidcSignIn(danaAgent, stack.url, dana, {
      stepUp: true,
      returnTo: `/console/incidents/${id}`,
    });
    expect(stepped.url, stepped.html).toBe(`${stack.url}/console/incidents/${id}`);
    const afterStepUp = await pageWithForm(danaAgent, id, rotate);
    const accepted = await danaAgent.request(`${stack.url}${rotate}`, {
      form: { ...hiddenFields(afterStepUp, rotate), decision: 'approve' },
    });
    expect(accepted.status).toBe(303);
    const timeline = await eventually(
      async () => {
        const { html } = await danaAgent.follow(`${stack.url}/console/incidents/${id}/timeline`);
        return html.includes('approve_rotate') && html.includes('dana') ? html : undefined;
      },
      30_000,
      'the rotation approval on the timeline',
    );
    expect(timeline).toContain('hx-get');
  });

  it('refuses a step-up sign-in that brings no second factor', async () => {
    const agent = new ConsoleAgent();
    const res = await oidcSignIn(agent, stack.url, sam, { stepUp: true });
    expect(res.res.status).toBe(403);
    expect(res.html).toContain('no second factor');
  });

  it('shows the audit log with the verdict of audit verify', async () => {
    const agent = new ConsoleAgent();
    await oidcSignIn(agent, stack.url, sam);
    const { html } = await agent.follow(`${stack.url}/console/audit`);
    expect(html).toContain('audit verify: OK');
  });
});
