/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core, a real OpenID
 * provider on loopback (test/helpers/oidc-provider.ts), moto for the AWS IAM rotation, and the
 * whole stack. A responder signs in through the IdP, opens the incident a real alert created,
 * approves containment and sees the agent disabled, sees the timeline update without a reload,
 * is refused the rotation until she steps up with a second factor, reads the post-mortem, runs a
 * drill and reads its report; the pages are also read with JavaScript off. Screenshots of the
 * main pages go to docs/console/*.png (docs/console.md shows them). Fails, naming what to
 * install, when Chromium or moto_server is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { getAgent } from '../../db/agents';
import { importAgents, liveFor } from '../connectors/fixtures';
import { IDP_USERS, startTestIdp, type TestIdp } from '../helpers/oidc-provider';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startMoto, type LocalMoto } from './services';

const SHOTS = path.join(import.meta.dirname, '..', '..', 'docs', 'console');
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const dana = IDP_USERS.find((u) => u.username === 'dana')!;

/** Debian's Chromium binary (the wrapper /usr/bin/chromium execs it), or a clear failure. */
function chromiumBinary(): string {
  const onPath = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'chromium'));
  for (const p of ['/usr/lib/chromium/chromium', ...onPath]) if (fs.existsSync(p)) return p;
  throw new Error(
    'Chromium not found: install it with `apt-get install chromium` (scripts/provision.d/chromium.sh, run by scripts/provision-test-services.sh)',
  );
}

let stack: TestStack;
let idp: TestIdp;
let moto: LocalMoto;
let browser: Browser;

beforeAll(async () => {
  const executablePath = chromiumBinary();
  moto = await startMoto();
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  await iam.send(new CreateUserCommand({ UserName: 'support-bot' }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'support-bot' }));
  iam.destroy();
  const idpPort = await freePort();
  stack = await startTestStack({
    env: {
      FIREBREAK_OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
      FIREBREAK_OIDC_CLIENT_ID: 'firebreak-console',
      FIREBREAK_OIDC_CLIENT_SECRET: 'test-client-secret-0123456789abcdef',
      FIREBREAK_OIDC_SCOPES: 'openid profile groups',
      FIREBREAK_OIDC_ROLE_MAP: JSON.stringify({ ic: ['incident_commander'] }),
      FIREBREAK_OIDC_STEP_UP_ACR: 'urn:firebreak:mfa',
    },
    liveConnectors: () =>
      liveFor(
        stack,
        { aws: { endpoint: moto.endpoint, region: 'us-east-1' } },
        { aws: { credentials: creds, deliverSecret: async () => undefined } },
      ),
  });
  idp = await startTestIdp({ port: idpPort, redirectUris: [`${stack.url}/console/auth/callback`] });
  await importAgents(stack, [
    {
      id: 'support-bot',
      name: 'Support bot',
      owner: 'support@example.com',
      team: 'support',
      environment: 'prod',
      credentials: [
        {
          id: 'support-bot-key',
          provider: 'aws_iam',
          reference: `support-bot/${key.AccessKey!.AccessKeyId!}`,
          scopes: ['s3:GetObject'],
        },
      ],
    },
  ]);
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  fs.mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await idp?.close();
  await moto?.stop();
});

async function signIn(page: Page, otp?: string): Promise<void> {
  await page.getByLabel('Username').fill(dana.username);
  await page.getByLabel('Password').fill(dana.password);
  if (otp) await page.getByLabel('One-time code (if enrolled)').fill(otp);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Reloads the incident page until `button` is offered (approvals appear as the playbook reaches them). */
async function waitForButton(page: Page, name: string): Promise<void> {
  await eventually(
    async () => {
      await page.reload();
      return (await page.getByRole('button', { name }).count()) > 0;
    },
    60_000,
    `the ${name} button`,
  );
}

async function openIncident(): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({
      title: 'AWS key of support-bot seen on a paste site',
      severity: 'medium',
      source: 'siem',
      dedup_key: 'paste-42',
      agent_id: 'support-bot',
      labels: { incident_class: 'credential_leak', credential_id: 'support-bot-key' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

describe('the console in Chromium', () => {
  let incidentId: string;

  it('signs in, approves containment, sees the live timeline, steps up for the rotation, reads the post-mortem', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.url}/console/incidents`);
    await expect.poll(() => page.url()).toContain('/console/login');
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    await signIn(page);
    await page.waitForURL(`${stack.url}/console/incidents`);
    await expect.poll(() => page.getByText('Dana Commander').count()).toBeGreaterThan(0);

    incidentId = await openIncident();
    await page.reload();
    await page.getByRole('link', { name: 'AWS key of support-bot seen on a paste site' }).click();
    await page.waitForURL(`**/console/incidents/${incidentId}`);

    await waitForButton(page, 'Approve approve_disable');
    await page.getByRole('button', { name: 'Approve approve_disable' }).click();
    await expect.poll(() => page.getByText('Approved.').count()).toBe(1);
    await eventually(
      async () => (await getAgent(stack.db, 'support-bot'))?.status === 'disabled',
      30_000,
      'agent disabled',
    );

    // The timeline updates in place: a note another responder adds shows up without a reload.
    const loads = { n: 0 };
    page.on('load', () => (loads.n += 1));
    const note = await fetch(`${stack.url}/v1/incidents/${incidentId}/notes`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: JSON.stringify({ text: 'gateway logs attached by the on-call' }),
    });
    expect(note.status).toBe(200);
    await page
      .locator('#timeline')
      .getByText('gateway logs attached by the on-call')
      .waitFor({ timeout: 30_000 });
    expect(loads.n).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'incident.png'), fullPage: true });

    await page.getByRole('link', { name: 'Agents' }).click();
    const row = page.locator('#agent-support-bot');
    await expect.poll(() => row.textContent()).toContain('disabled');
    expect(await row.textContent()).toContain(incidentId);
    await page.screenshot({ path: path.join(SHOTS, 'agents.png'), fullPage: true });

    await page.goto(`${stack.url}/console/incidents/${incidentId}`);
    await waitForButton(page, 'Complete scope_use');
    await page.getByLabel('Note (optional)').fill('leaked through a CI log');
    await page.getByRole('button', { name: 'Complete scope_use' }).click();

    // The rotation is irreversible: refused to a sign-in without a second factor.
    await waitForButton(page, 'Approve approve_rotate');
    await page.getByRole('button', { name: 'Approve approve_rotate' }).click();
    const refusal = page.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toContain('irreversible');
    expect(await refusal.textContent()).toContain('no second factor');
    await page.screenshot({ path: path.join(SHOTS, 'step-up.png'), fullPage: true });
    await refusal.getByRole('link', { name: 'Sign in again with a second factor' }).click();
    await signIn(page, dana.otp);
    await page.waitForURL(`${stack.url}/console/incidents/${incidentId}`);
    await page.getByRole('button', { name: 'Approve approve_rotate' }).click();
    await expect.poll(() => page.getByText('Approved.').count()).toBe(1);

    // Re-enabling releases containment: the recent step-up covers it too.
    await waitForButton(page, 'Approve approve_reenable');
    await page.getByRole('button', { name: 'Approve approve_reenable' }).click();
    await expect.poll(() => page.getByText('Approved.').count()).toBe(1);
    await eventually(
      async () => (await getAgent(stack.db, 'support-bot'))?.status === 'enabled',
      30_000,
      'agent enabled',
    );

    await page.getByRole('link', { name: 'Read the post-mortem' }).click();
    const report = page.locator('pre.report');
    await expect.poll(() => report.textContent()).toContain('credentials.rotate');
    await page.screenshot({ path: path.join(SHOTS, 'postmortem.png'), fullPage: true });

    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.screenshot({ path: path.join(SHOTS, 'incidents.png'), fullPage: true });
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expect.poll(() => page.getByText('audit verify: OK').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'audit.png'), fullPage: true });

    await page.getByRole('link', { name: 'Drills' }).click();
    await page.getByLabel('Speed (scenario time ÷ wall time)').fill('600');
    await page.getByRole('button', { name: 'Start drill' }).click();
    await page.waitForURL('**/console/drills/**');
    await eventually(
      async () => {
        await page.reload();
        // The line under the title starts with the drill's status: running until it is scored.
        return /status (passed|failed|error)/.test(
          (await page.locator('main p').first().textContent()) ?? '',
        );
      },
      120_000,
      'the drill to finish',
    );
    expect(await page.locator('main p').first().textContent()).toContain(
      'status passed · every expectation met',
    );
    expect(await page.locator('pre.report').textContent()).toContain('Expectations');
    await page.screenshot({ path: path.join(SHOTS, 'drill-report.png'), fullPage: true });

    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    await small.goto(`${stack.url}/console/incidents/${incidentId}`);
    // Runs in the page (no DOM types here): how far the page is wider than the phone's screen.
    const overflow = await small.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await small.screenshot({ path: path.join(SHOTS, 'incident-phone.png') });
    await phone.close();
    await context.close();
  });

  it('reads the incident, its post-mortem and the drill report with JavaScript off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${stack.url}/console/incidents`);
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    await signIn(page);
    await page.waitForURL(`${stack.url}/console/incidents`);
    await page.getByRole('link', { name: 'AWS key of support-bot seen on a paste site' }).click();
    expect(await page.locator('#timeline').textContent()).toContain('gateway logs attached by the on-call');
    await page.getByRole('link', { name: 'Read the post-mortem' }).click();
    expect(await page.locator('pre.report').textContent()).toContain(incidentId);
    await page.getByRole('link', { name: 'Drills' }).click();
    await page.getByRole('link', { name: 'After-action report' }).first().click();
    expect(await page.locator('pre.report').textContent()).toContain('Expectations');
    await context.close();
  });
});
