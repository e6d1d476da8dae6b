import { ApplicationFailure } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../activities';
import { createSlackActivities } from '../../activities/slack';
import { storeAlert } from '../../api/intake-store';
import { ConfigError, loadConfig } from '../../app/config';
import { openDb, type Db } from '../../db/client';
import { createSlackApi } from '../../slack/client';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';

let fake: FakeSlack;
let db: Db;
let dir: string;
let incidentId: string;
beforeAll(async () => {
  fake = await startFakeSlack();
  fake.token = 'xoxb-good';
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-notifier-'));
  db = openDb(path.join(dir, 'firebreak.db'));
  const at = new Date().toISOString();
  incidentId = storeAlert(
    db,
    {
      format: 'generic',
      source: 'default',
      origin: 'siem',
      dedupKey: 'n-1',
      title: 'Agent wrote to prod bucket',
      severity: 'high',
      status: 'firing',
      agentId: 'agent-3',
      labels: {},
      details: {},
      occurredAt: at,
    },
    { receivedAt: at },
  ).incidentId;
});
afterAll(async () => {
  db?.$client.close();
  await fake?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function activities(token: string) {
  const config = loadConfig({
    SLACK_BOT_TOKEN: token,
    SLACK_SIGNING_SECRET: 'sig-secret-123',
    SLACK_API_URL: fake.apiUrl,
  }).slack!;
  return createSlackActivities({
    db,
    clock: systemClock,
    slack: {
      api: createSlackApi(config),
      config,
      links: { publicUrl: undefined, temporalUiUrl: undefined, namespace: 'default' },
    },
  });
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('Slack notifier failures as Temporal sees them', () => {
  it('a bad token is non-retryable, and says what to fix', async () => {
    const f = await failureOf(activities('xoxb-revoked').slackIncidentOpened({ incidentId }));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('Slack.invalid_auth');
    expect(f.message).toContain('SLACK_BOT_TOKEN');
  });

  it('429 is retryable after exactly Slack’s Retry-After', async () => {
    fake.failFor(5_000, 429, 7);
    const f = await failureOf(activities('xoxb-good').slackIncidentOpened({ incidentId }));
    fake.failFor(0, 429);
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('Slack.ratelimited');
    expect(f.nextRetryDelay).toBe(7000);
  });

  it('5xx is retryable with the normal backoff', async () => {
    fake.failFor(5_000, 500);
    const f = await failureOf(activities('xoxb-good').slackIncidentOpened({ incidentId }));
    fake.failFor(0, 500);
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('Slack.http_500');
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it('does nothing, successfully, when Slack is not configured', async () => {
    const off = createSlackActivities({ db, clock: systemClock, slack: undefined });
    const before = fake.calls.length;
    expect(await off.slackIncidentOpened({ incidentId })).toEqual({ enabled: false });
    expect(fake.calls.length).toBe(before);
  });
});

describe('Slack configuration', () => {
  it('is off without SLACK_BOT_TOKEN', () => {
    expect(loadConfig({}).slack).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: 'sig-secret-123' })).toThrow(/SLACK_BOT_TOKEN/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxp-user', SLACK_APP_TOKEN: 'xapp-1' })).toThrow(
      /SLACK_BOT_TOKEN/,
    );
    expect(() =>
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_USER_ROLES: '{"nope"' }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_RESPONDERS: 'alice' }),
    ).toThrow(/SLACK_RESPONDERS/);
  });

  it('parses responders, roles, emoji and the API URL', () => {
    const slack = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9/api',
      SLACK_RESPONDERS: 'U1, U2',
      SLACK_USER_ROLES: '{"U1":{"roles":["incident_commander"]}}',
      SLACK_TIMELINE_EMOJI: ':memo:',
    }).slack!;
    expect(slack).toMatchObject({
      apiUrl: 'http://127.0.0.1:9/api/',
      responders: ['U1', 'U2'],
      identities: { U1: { roles: ['incident_commander'], groups: [] } },
      timelineEmoji: 'memo',
      signingSecret: undefined,
    });
  });
});
