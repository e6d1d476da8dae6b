import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalMessage } from '../../slack/blocks/approval';
import { escalationMessage } from '../../slack/blocks/escalation';
import { taskMessage } from '../../slack/blocks/task';
import { escapeSlack, link, mentionTarget } from '../../slack/escape';
import { eventually } from '../helpers/stack';
import { openIncident, postsIn, renderedText, startSlackStack, type SlackStack } from './setup';

const EVIL =
  'Exfil <!channel> & <@U0EVIL1> see <http://evil.example/phish|the runbook> <!subteam^S0ALL|@all>';
const INJECTIONS = ['<!channel>', '<@U0EVIL1>', '<http://evil.example', '<!subteam^S0ALL', '<!here>'];

function expectInert(rendered: string) {
  for (const i of INJECTIONS) expect(rendered).not.toContain(i);
  expect(rendered).toContain('&lt;!channel&gt;');
  expect(rendered).toContain('&amp;');
}

describe('escaping alert text for Slack', () => {
  it('escapes &, < and > and nothing else', () => {
    expect(escapeSlack('a & b < c > d *bold* `x`')).toBe('a &amp; b &lt; c &gt; d *bold* `x`');
    expect(escapeSlack('&lt;')).toBe('&amp;lt;');
  });

  it('builds our own links and mentions so a label or id cannot break out of them', () => {
    expect(link('https://x.example/a|b>c', 'label|<!channel>')).toBe(
      '<https://x.example/a%7Cb%3Ec|label¦&lt;!channel&gt;>',
    );
    expect(mentionTarget('U123ABC')).toBe('<@U123ABC>');
    expect(mentionTarget('S123ABC')).toBe('<!subteam^S123ABC>');
    expect(mentionTarget('<!channel>')).toBe('&lt;!channel&gt;');
  });

  it('leaves no live mention or link in approval, task and escalation messages built from hostile text', () => {
    const approval = approvalMessage({
      incidentId: 'inc-1',
      stepId: 'revoke',
      action: 'credentials.revoke',
      target: EVIL,
      verification: EVIL,
      approvers: { roles: ['<!here>'], groups: [] },
      required: 2,
      twoPerson: true,
      deadline: undefined,
      approvals: [],
    });
    expectInert(JSON.stringify(approval));
    expectInert(
      JSON.stringify(
        taskMessage({ incidentId: 'i', stepId: 's', title: EVIL, instructions: EVIL, assignee: '<!here>' }),
      ),
    );
    expectInert(
      JSON.stringify(
        escalationMessage({ incidentId: 'i', target: '<!here>', reason: EVIL, by: '<!channel>' }),
      ),
    );
  });
});

describe('hostile alert text end to end', () => {
  let s: SlackStack;
  beforeAll(async () => {
    s = await startSlackStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('reaches Slack escaped in the summary card and the announcement', async () => {
    const { channel } = await openIncident(s, { title: EVIL, agent_id: '<!here>', dedup_key: 'evil-1' });
    const card = postsIn(s, channel)[0]!;
    expectInert(renderedText(card.args));
    // The announcement is a part of its own, beside the card: wait for it.
    const announce = await eventually(() =>
      s.fake.sent('chat.postMessage').find((c) => c.args.channel === s.announceChannel),
    );
    expectInert(renderedText(announce.args));
    // The channel name is a slug: nothing of the markup survives in it.
    expect(s.fake.channels.get(channel)?.name).toMatch(/^inc-[0-9a-f]{10}-1-[a-z0-9-]+$/);
  });
});
