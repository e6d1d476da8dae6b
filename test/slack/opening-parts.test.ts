/**
 * Opening an incident's Slack presence is four parts, each retried or repaired on its own
 * (workflows/slack-sync.ts): one permanent error in one part (an archived announcement channel,
 * one channel_not_found, invalid_auth while a token is rotated) neither switches Slack off for
 * the incident nor leaves a channel with only the bot in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { bearer, eventually, TEST_WEBHOOK_SECRET } from '../helpers/stack';
import {
  openIncident,
  postsIn,
  refOf,
  renderedText,
  RESPONDERS,
  startSlackStack,
  type SlackStack,
} from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

async function postAlert(dedup: string) {
  const res = await fetch(`${s.stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({ title: 'again', severity: 'critical', source: 'siem', dedup_key: dedup }),
  });
  expect(res.status).toBe(202);
}

const slackFailures = (incidentId: string) =>
  timelineRows(s.stack.db, incidentId).filter((e) => e.kind === 'slack.failed');

const respondersIn = (channel: string) =>
  RESPONDERS.every((u) => s.fake.channels.get(channel)?.members.has(u));

describe('opening an incident in Slack, part by part', () => {
  it('an archived announcement channel is said on the timeline; channel, invites and card are done and Slack stays on', async () => {
    s.fake.channels.get(s.announceChannel)!.archived = true;
    try {
      const { incidentId, channel } = await openIncident(s, { dedup_key: 'parts-archived' });
      const failed = await eventually(() => slackFailures(incidentId)[0], 20_000, 'the timeline to say so');
      expect(failed.message).toContain('announcement');
      expect(failed.message).toContain('is_archived');
      expect(failed.message).toContain('unarchive');
      await eventually(() => respondersIn(channel), 20_000, 'responders invited');
      // Slack is still on for this incident: the card follows the next alert.
      const summary = (await refOf(s, incidentId, 'summary'))!;
      await postAlert('parts-archived');
      await eventually(
        () => renderedText(s.fake.message(channel, summary.ts)!).includes('*Alerts*\\n2'),
        20_000,
        'the card to show 2 alerts',
      );
      expect(slackFailures(incidentId)).toHaveLength(1);
    } finally {
      s.fake.channels.get(s.announceChannel)!.archived = false;
    }
  });

  it('invalid_auth during a token rotation and one channel_not_found: every part recovers on its own', async () => {
    const lifts = [
      s.fake.fault({ methods: ['conversations.create'], error: 'invalid_auth', times: 1 }),
      s.fake.fault({ methods: ['conversations.invite'], error: 'channel_not_found', times: 1 }),
      s.fake.fault({ methods: ['chat.postMessage'], error: 'invalid_auth', times: 2 }),
    ];
    try {
      const { incidentId, channel } = await openIncident(s, { dedup_key: 'parts-rotation' }).catch(() => ({
        incidentId: '',
        channel: '',
      }));
      expect(incidentId, 'the card was posted after the token came back').not.toBe('');
      await eventually(() => respondersIn(channel), 30_000, 'responders invited after channel_not_found');
      await eventually(
        () =>
          s.fake
            .sent('chat.postMessage')
            .find((c) => c.args.channel === s.announceChannel && String(c.args.text).includes(incidentId)),
        30_000,
        'the announcement',
      );
      expect(postsIn(s, channel)).toHaveLength(1);
      expect(s.fake.failedCalls().map((c) => c.error)).toEqual(
        expect.arrayContaining(['invalid_auth', 'channel_not_found']),
      );
      expect(slackFailures(incidentId)).toEqual([]);
    } finally {
      lifts.forEach((lift) => lift());
    }
  });
});
