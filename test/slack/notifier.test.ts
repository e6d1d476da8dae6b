import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config';
import { openDb, type Db } from '../../db/client';
import { loadRef } from '../../db/slack-refs';
import { systemClock } from '../../domain/clock';
import { storeAlert } from '../../intake/store';
import { createSlackApi } from '../../slack/client';
import { createSlackActivities } from '../../slack/notifier';
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
  incidentId = (
    await storeAlert(
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
    )
  ).incidentId!;
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

/** The summary card's render: a Web API call on every run (the channel may be stored already). */
function card(acts: ReturnType<typeof activities>) {
  return acts.slackSyncSummary({
    incidentId,
    status: 'open',
    phase: 'assess',
    alertCount: 1,
    pendingApprovals: 0,
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

describe('incident channel privacy', () => {
  it('is private unless SLACK_PRIVATE_CHANNELS=false', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-x', SLACK_SIGNING_SECRET: 'sig-secret-123' };
    expect(loadConfig(base).slack!.privateChannels).toBe(true);
    expect(loadConfig({ ...base, SLACK_PRIVATE_CHANNELS: 'false' }).slack!.privateChannels).toBe(false);
  });
});

describe('Slack notifier failures as Temporal sees them', () => {
  it('an unknown error code stops instead of retrying forever, naming the cause', async () => {
    const lift = fake.fault({ methods: ['chat.postMessage'], error: 'team_access_not_granted', times: 1 });
    const f = await failureOf(
      activities('xoxb-good').slackPostReport({ incidentId, ref: 'unknown-code', text: 'x' }),
    );
    lift();
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('team_access_not_granted');
  });

  it('invalid_blocks names the field Slack refused, and is not blamed on the token', async () => {
    const pointer = '[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]';
    const lift = fake.fault({
      methods: ['chat.postMessage'],
      error: 'invalid_blocks',
      messages: [pointer],
      times: 1,
    });
    const f = await failureOf(
      activities('xoxb-good').slackPostReport({ incidentId, ref: 'bad-blocks', text: 'x' }),
    );
    lift();
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('/blocks/0/text/text');
    expect(f.message).not.toContain('SLACK_BOT_TOKEN');
  });

  it('a deleted message is posted again instead of failing (message_not_found)', async () => {
    const acts = activities('xoxb-good');
    await acts.slackPostReport({ incidentId, ref: 'deleted', text: 'first' });
    const before = (await loadRef(db, incidentId, 'report:deleted'))!;
    fake.deleteMessage(before.channel, before.ts);
    expect(await acts.slackPostReport({ incidentId, ref: 'deleted', text: 'second' })).toEqual({
      enabled: true,
    });
    const after = (await loadRef(db, incidentId, 'report:deleted'))!;
    expect(after.ts).not.toBe(before.ts);
    expect(fake.message(after.channel, after.ts)?.text).toBe('second');
  });

  it('a bad token is non-retryable, and says what to fix', async () => {
    const f = await failureOf(card(activities('xoxb-revoked')));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('Slack.invalid_auth');
    expect(f.message).toContain('SLACK_BOT_TOKEN');
  });

  it('429 is retryable after exactly Slack’s Retry-After', async () => {
    fake.failFor(5_000, 429, 7);
    const f = await failureOf(card(activities('xoxb-good')));
    fake.failFor(0, 429);
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('Slack.ratelimited');
    expect(f.nextRetryDelay).toBe(7000);
  });

  it('5xx is retryable with the normal backoff', async () => {
    fake.failFor(5_000, 500);
    const f = await failureOf(card(activities('xoxb-good')));
    fake.failFor(0, 500);
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe('Slack.http_500');
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it('a refused batch of invites is retried one responder at a time; the one Slack refuses is named', async () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-good',
      SLACK_SIGNING_SECRET: 'sig-secret-123',
      SLACK_API_URL: fake.apiUrl,
      SLACK_RESPONDERS: 'UALICE01,UGUEST01,UBOB0001',
    }).slack!;
    const acts = createSlackActivities({
      db,
      clock: systemClock,
      slack: {
        api: createSlackApi(config),
        config,
        links: { publicUrl: undefined, temporalUiUrl: undefined, namespace: 'default' },
      },
    });
    await acts.slackOpenChannel({ incidentId });
    const channel = (await loadRef(db, incidentId, 'channel'))!.channel;
    // Slack refuses a whole batch for one user it cannot invite.
    fake.uninvitable.add('UGUEST01');
    const f = await failureOf(acts.slackInviteResponders({ incidentId }));
    fake.uninvitable.clear();
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('UGUEST01 (cant_invite)');
    expect(f.message).not.toContain('UALICE01');
    const members = fake.channels.get(channel)!.members;
    expect(members.has('UALICE01') && members.has('UBOB0001')).toBe(true);
    expect(members.has('UGUEST01')).toBe(false);
  });

  it('does nothing, successfully, when Slack is not configured', async () => {
    const off = createSlackActivities({ db, clock: systemClock, slack: undefined });
    const before = fake.calls.length;
    expect(await off.slackOpenChannel({ incidentId })).toEqual({ enabled: false });
    expect(fake.calls.length).toBe(before);
  });
});

describe('approval, task and escalation messages', () => {
  const view = {
    incidentId: '',
    stepId: 'approve_disable',
    action: 'agent.disable',
    target: 'agent_id=agent-3',
    verification: "Reads the agent's signed status endpoint back and checks it says disabled.",
    approvers: { roles: ['incident_commander'], groups: ['S0SECLEADS'] },
    required: 2,
    twoPerson: true,
    deadline: '2026-11-22T01:00:00.000Z',
    approvals: [{ id: 'UALICE01', at: '2026-11-22T00:10:00.000Z' }],
  };

  it('skips a stale render: the request delivered after its outcome does not bring the buttons back', async () => {
    const acts = activities('xoxb-good');
    const v = { ...view, incidentId, stepId: 'ordered_step' };
    const outcome = { decision: 'approved' as const, by: { id: 'UALICE01' }, at: '2026-11-22T00:20:00.000Z' };
    // The outcome (version 2) lands first; the original request (version 1) retried late.
    await acts.slackShowApproval({ view: v, outcome, version: 2 });
    await acts.slackShowApproval({ view: v, version: 1 });
    const ref = (await loadRef(db, incidentId, 'approval:ordered_step'))!;
    const msg = fake.message(ref.channel, ref.ts)!;
    expect(JSON.stringify(msg.blocks)).toContain('Approved');
    expect((msg.blocks as any[]).some((b) => b.block_id === 'approval_actions')).toBe(false);
  });

  /** Firebreak's copies of message `ref` in `channel`, as Slack holds them. */
  function copiesOf(channel: string, ref: string) {
    return (fake.messages.get(channel) ?? []).filter(
      (m) => m.metadata?.event_type === 'firebreak_message' && m.metadata.event_payload.ref === ref,
    );
  }
  const hasButtons = (m: { blocks: unknown[] }) =>
    (m.blocks as { type?: string }[]).some((b) => b.type === 'actions');

  it.each(['internal_error', 'fatal_error'])(
    'a post Slack performed but answered with %s is found by its metadata on the retry, not posted twice',
    async (code) => {
      const acts = activities('xoxb-good');
      const v = { ...view, incidentId, stepId: `performed_${code}` };
      const lift = fake.fault({ methods: ['chat.postMessage'], error: code, performed: true, times: 1 });
      const f = await failureOf(acts.slackShowApproval({ view: v, version: 1 }));
      lift();
      expect(f.nonRetryable).toBe(false);
      const postsBefore = fake.sent('chat.postMessage').length;
      // Temporal's retry of the same activity, then the decided render.
      await acts.slackShowApproval({ view: v, version: 1 });
      const outcome = {
        decision: 'approved' as const,
        by: { id: 'UALICE01' },
        at: '2026-11-22T00:20:00.000Z',
      };
      await acts.slackShowApproval({ view: v, outcome, version: 2 });
      expect(fake.sent('chat.postMessage').length).toBe(postsBefore);
      const ref = (await loadRef(db, incidentId, `approval:${v.stepId}`))!;
      const copies = copiesOf(ref.channel, `approval:${v.stepId}`);
      expect(copies.map((m) => m.ts)).toEqual([ref.ts]);
      expect(JSON.stringify(copies[0]!.blocks)).toContain('Approved');
      expect(hasButtons(copies[0]!)).toBe(false);
    },
  );

  it('a duplicate Slack made anyway is superseded: it keeps no working buttons', async () => {
    const acts = activities('xoxb-good');
    const v = { ...view, incidentId, stepId: 'duplicated' };
    const lift = fake.fault({
      methods: ['chat.postMessage'],
      error: 'fatal_error',
      performed: true,
      times: 1,
    });
    await failureOf(acts.slackShowApproval({ view: v, version: 1 }));
    lift();
    // Slack delivered the same post twice (its partial success repeated it).
    const channel = fake.sent('chat.postMessage').at(-1)?.args.channel ?? '';
    const [first] = copiesOf(channel, 'approval:duplicated');
    const twin = fake.addMessage(channel, 'copy', 'UBOT0001');
    Object.assign(fake.message(channel, twin)!, {
      blocks: structuredClone(first!.blocks),
      metadata: structuredClone(first!.metadata),
    });
    await acts.slackShowApproval({ view: v, version: 1 });
    const ref = (await loadRef(db, incidentId, 'approval:duplicated'))!;
    expect(ref.ts).toBe(first!.ts);
    const dup = fake.message(channel, twin)!;
    expect(hasButtons(dup)).toBe(false);
    expect(JSON.stringify(dup.blocks)).toContain('Superseded');
    expect(hasButtons(fake.message(channel, first!.ts)!)).toBe(true);
    // A superseded copy is never adopted again.
    expect(
      copiesOf(channel, 'approval:duplicated').filter((m) => !m.metadata!.event_payload.superseded),
    ).toHaveLength(1);
  });

  it('posts an approval request with buttons in the incident channel, then re-renders the same message when decided', async () => {
    const acts = activities('xoxb-good');
    const v = { ...view, incidentId };
    expect(await acts.slackShowApproval({ view: v })).toEqual({ enabled: true });
    const post = fake
      .sent('chat.postMessage')
      .find((c) => String(c.args.text).startsWith('Approval needed'))!;
    const shown = JSON.stringify(post.args.blocks);
    for (const part of [
      'agent.disable',
      'agent_id=agent-3',
      'checks it says disabled',
      'role `incident_commander`',
      'group `S0SECLEADS`',
      '1 of 2',
      'two-person rule',
      '<@UALICE01>',
      '<!date^',
    ])
      expect(shown).toContain(part);
    expect(post.args.blocks.at(-1).elements.map((e: any) => e.action_id)).toEqual([
      'approval_approve',
      'approval_reject',
    ]);

    await acts.slackShowApproval({
      view: v,
      outcome: {
        decision: 'rejected',
        by: { id: 'UBOB0001' },
        at: '2026-11-22T00:20:00.000Z',
        reason: 'not <!here>',
      },
    });
    const channel = post.args.channel as string;
    const update = fake
      .sent('chat.update')
      .find((c) => c.args.channel === channel && String(c.args.text).endsWith('rejected'))!;
    const after = JSON.stringify(update.args.blocks);
    expect(after).toContain('Rejected* by <@UBOB0001>');
    expect(after).toContain('not &lt;!here&gt;');
    expect(after).not.toContain('approval_approve');
    expect(
      fake.sent('chat.postMessage').filter((c) => String(c.args.text).startsWith('Approval needed')),
    ).toHaveLength(1);
  });

  it('posts a manual task with Done, and marks it done in place', async () => {
    const acts = activities('xoxb-good');
    const task = {
      incidentId,
      stepId: 'call_vendor',
      title: 'Call the vendor',
      instructions: '• ask for logs',
      assignee: 'UCAROL01',
    };
    await acts.slackShowTask({ view: task });
    const post = fake.sent('chat.postMessage').find((c) => String(c.args.text).includes('Call the vendor'))!;
    expect(JSON.stringify(post.args.blocks)).toContain('"action_id":"task_done"');
    await acts.slackShowTask({ view: task, done: { by: 'UCAROL01', at: '2026-11-22T00:30:00.000Z' } });
    const update = fake.sent('chat.update').find((c) => String(c.args.text).includes('Call the vendor'))!;
    expect(JSON.stringify(update.args.blocks)).toContain('Done by <@UCAROL01>');
    expect(JSON.stringify(update.args.blocks)).not.toContain('"action_id":"task_done"');
  });

  it('posts an escalation once per key, mentioning the target group', async () => {
    const acts = activities('xoxb-good');
    const esc = {
      incidentId,
      target: 'S0SECLEADS',
      reason: 'no decision in 30m',
      by: 'UALICE01',
      key: 'esc-1',
    };
    await acts.slackPostEscalation(esc);
    await acts.slackPostEscalation(esc);
    const posts = fake
      .sent('chat.postMessage')
      .filter((c) => String(c.args.text).includes('no decision in 30m'));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.text).toContain('<!subteam^S0SECLEADS>');
    expect(posts[0]!.args.text).toContain('by <@UALICE01>');
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

describe('report digests', () => {
  it('posts a report once to the incident channel and updates it on a retry', async () => {
    const a = activities('xoxb-good');
    const posted = fake.sent('chat.postMessage').length;
    const updated = fake.sent('chat.update').length;
    expect(
      await a.slackPostReport({ incidentId, ref: 'after-action', text: '*Drill* 3/4 expectations met' }),
    ).toEqual({ enabled: true });
    await a.slackPostReport({ incidentId, ref: 'after-action', text: '*Drill* 4/4 expectations met' });
    const posts = fake.sent('chat.postMessage').slice(posted);
    expect(posts.filter((c) => String(c.args.text).includes('expectations met'))).toHaveLength(1);
    expect(fake.sent('chat.update').length).toBe(updated + 1);
    expect(String(fake.sent('chat.update').at(-1)!.args.text)).toContain('4/4');
  });

  it('posts the post-mortem digest built from the stored facts', async () => {
    const a = activities('xoxb-good');
    expect(await a.slackPostPostmortem({ incidentId })).toEqual({ enabled: true });
    const last = fake.sent('chat.postMessage').at(-1)!;
    expect(String(last.args.text)).toMatch(/^\*Post-mortem: Agent wrote to prod bucket/);
  });
});
