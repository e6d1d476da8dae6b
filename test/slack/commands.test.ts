import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolesOf } from '../../db/incident-roles';
import { listIncidents } from '../../db/incidents';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { text } from '../helpers/slack-requests';
import { eventually } from '../helpers/stack';
import { incidentChannel, openIncident, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
let incidentId: string;
let channel: string;
beforeAll(async () => {
  s = await startSlackStack();
  ({ incidentId, channel } = await openIncident(s, { title: 'Agent spawning shells', dedup_key: 'cmd-1' }));
});
afterAll(async () => {
  await s?.close();
});

async function replyTo(command: string, where = channel, user = { id: 'UALICE01', name: 'alice' }) {
  const { res, responsePath } = await s.slack.command(command, {
    channel: where,
    user: user.id,
    userName: user.name,
  });
  expect(res.status).toBe(200);
  return (
    await eventually(
      () => s.fake.sent('response_url').find((c) => c.args.path === responsePath),
      15_000,
      `reply to ${command}`,
    )
  ).args;
}

function events(kind: string) {
  return timelineRows(s.stack.db, incidentId).filter((e) => e.kind === kind);
}

describe('/incident slash command', () => {
  it('status: replies with the incident’s severity, status, phase, alerts and agent', async () => {
    const reply = await replyTo('status');
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(incidentId);
    expect(reply.text).toContain('Severity critical');
    expect(reply.text).toContain('1 alert(s)');
    expect(reply.text).toContain('agent-7');
  });

  it('status outside an incident channel explains where to run it', async () => {
    const reply = await replyTo('status', 'CGENERAL1');
    expect(reply.text).toContain('Run this in an incident channel');
  });

  it('note: adds the note to the timeline through the workflow and says so in the channel', async () => {
    const reply = await replyTo('note Attacker pivoted via the CI runner');
    expect(reply.response_type).toBe('in_channel');
    const note = await eventually(() =>
      events('note').find((e) => e.message === 'Attacker pivoted via the CI runner'),
    );
    expect(note.actor).toBe('UALICE01');
    expect(note.data).toMatchObject({ via: 'slack' });
  });

  it('role: stores the assignment, records it on the timeline and announces it', async () => {
    const reply = await replyTo('role commander <@UBOB0001|bob>');
    expect(reply.text).toContain('<@UBOB0001> is now *commander*');
    const [row] = await rolesOf(s.stack.db, incidentId);
    expect(row).toMatchObject({ role: 'commander', userId: 'UBOB0001', assignedBy: 'UALICE01' });
    expect(events('role.assigned')[0]?.message).toBe('commander is now UBOB0001');
    expect((await replyTo('status')).text).toContain('commander <@UBOB0001>');
    expect((await replyTo('role commander nobody')).text).toContain('Usage');
  });

  it('role: only the incident commander or an admin may assign roles; others are refused and audited', async () => {
    const refused = await replyTo('role scribe <@UCAROL01|carol>', channel, {
      id: 'UCAROL01',
      name: 'carol',
    });
    expect(refused.text).toContain('Only the incident commander');
    expect(events('role.unauthorized')[0]?.actor).toContain('UCAROL01');
    expect((await rolesOf(s.stack.db, incidentId)).some((r) => r.userId === 'UCAROL01')).toBe(false);
    // bob is this incident's commander (assigned above): he may assign.
    const ok = await replyTo('role scribe <@UCAROL01|carol>', channel, { id: 'UBOB0001', name: 'bob' });
    expect(ok.text).toContain('<@UCAROL01> is now *scribe*');
  });

  it('drill: points at the drill runner', async () => {
    expect((await replyTo('drill')).text).toContain('npm run cli -- drill run');
  });

  it('help or an unknown subcommand lists the commands', async () => {
    expect((await replyTo('frobnicate')).text).toContain('/incident escalate');
  });

  it('declare: opens a modal; submitting it opens a (drill) incident through intake, with its own channel', async () => {
    const { res, responsePath } = await s.slack.command('declare', { channel: 'CGENERAL1' });
    expect(res.status).toBe(200);
    const open = await eventually(() =>
      s.fake.sent('views.open').find((c) => c.args.view?.callback_id === 'incident_declare'),
    );
    expect(open.args.trigger_id).toBeTruthy();
    const sub = await s.slack.submitView({
      callbackId: 'incident_declare',
      privateMetadata: open.args.view.private_metadata,
      values: {
        title: text('Agent emailing source code to <!channel>'),
        severity: {
          value: {
            type: 'static_select',
            selected_option: { value: 'medium', text: { type: 'plain_text', text: 'medium' } },
          },
        },
        agent: text('agent-42'),
        mode: {
          value: {
            type: 'checkboxes',
            selected_options: [{ value: 'drill', text: { type: 'plain_text', text: 'd' } }],
          },
        },
      },
    });
    expect(sub.status).toBe(200);
    const declared = await eventually(async () =>
      (await listIncidents(s.stack.db, { limit: 1000 })).find((i) => i.source === 'slack'),
    );
    expect(declared).toMatchObject({
      mode: 'drill',
      severity: 'medium',
      agentId: 'agent-42',
      title: 'Agent emailing source code to <!channel>',
    });
    const declaredChannel = await incidentChannel(s, declared.id);
    expect(s.fake.channels.get(declaredChannel)?.name).toMatch(
      /^drill-[0-9a-f]{10}-1-agent-emailing-source-code-to-channel$/,
    );
    // Confirmed through the command's response_url: CGENERAL1 is not a channel the bot is in.
    const confirm = await eventually(() =>
      s.fake.responses(responsePath).find((r) => String(r.text).includes(declared.id)),
    );
    expect(confirm.response_type).toBe('ephemeral');
    expect(confirm.text).not.toContain('<!channel>');
    expect(s.fake.sent('chat.postEphemeral')).toHaveLength(0);
  });

  it('declare: a submission without a title is answered with a field error', async () => {
    const res = await s.slack.submitView({
      callbackId: 'incident_declare',
      privateMetadata: '{}',
      values: { title: text('  ') },
    });
    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: { title: 'Say what is happening.' },
    });
  });

  it('note: text from Slack is not escaped twice, on the timeline or in the channel', async () => {
    const { responsePath } = await s.slack.command('note Q&A <draft> shows a > b', { channel });
    const note = await eventually(() => events('note').find((e) => e.message.startsWith('Q&A')));
    expect(note.message).toBe('Q&A <draft> shows a > b');
    const said = await eventually(() => s.fake.responses(responsePath)[0]);
    expect(said.text).toContain('Q&amp;A &lt;draft&gt; shows a &gt; b');
    expect(said.text).not.toContain('&amp;amp;');
  });

  it('a timeline reaction on a thread reply adds the reply (read through conversations.replies)', async () => {
    const parent = s.fake.addMessage(channel, 'Thread about the pivot', 'UCAROL01');
    const reply = s.fake.addMessage(channel, 'Pivot host is build-7 & <ci>', 'UBOB0001', parent);
    const res = await s.slack.event({
      type: 'reaction_added',
      user: 'UALICE01',
      reaction: 'pushpin',
      item: { type: 'message', channel, ts: reply },
      item_user: 'UBOB0001',
      event_ts: `${Date.now() / 1000}`,
    });
    expect(res.status).toBe(200);
    const note = await eventually(() => events('note').find((e) => e.message.startsWith('Pivot host')));
    expect(note.message).toBe('Pivot host is build-7 & <ci> (message by UBOB0001)');
  });

  it('a timeline reaction adds the message to the timeline; other emoji do not', async () => {
    const ts = s.fake.addMessage(channel, 'Attacker IP is 203.0.113.9', 'UCAROL01');
    const other = s.fake.addMessage(channel, 'lunch?', 'UCAROL01');
    const react = (reaction: string, at: string) =>
      s.slack.event({
        type: 'reaction_added',
        user: 'UBOB0001',
        reaction,
        item: { type: 'message', channel, ts: at },
        item_user: 'UCAROL01',
        event_ts: `${Date.now() / 1000}`,
      });
    expect((await react('eyes', other)).status).toBe(200);
    expect((await react('pushpin', ts)).status).toBe(200);
    expect((await react('pushpin', ts)).status).toBe(200); // twice: still one note
    const note = await eventually(() =>
      events('note').find((e) => e.message.startsWith('Attacker IP is 203.0.113.9')),
    );
    expect(note.actor).toBe('UBOB0001');
    await new Promise((r) => setTimeout(r, 500));
    const notes = events('note').filter(
      (e) => e.message.includes('203.0.113.9') || e.message.includes('lunch'),
    );
    expect(notes).toHaveLength(1);
  });

  it('resolve: asks for confirmation with a reason, then closes the incident and says so', async () => {
    const { res, responsePath } = await s.slack.command('resolve', { channel });
    expect(res.status).toBe(200);
    const open = await eventually(() =>
      s.fake.sent('views.open').find((c) => c.args.view?.callback_id === 'incident_confirm'),
    );
    expect(JSON.parse(open.args.view.private_metadata)).toEqual({
      kind: 'resolve',
      incidentId,
      channelId: channel,
      responseUrl: `${s.fake.url}${responsePath}`,
    });
    const noReason = await s.slack.submitView({
      callbackId: 'incident_confirm',
      privateMetadata: open.args.view.private_metadata,
      values: { reason: text('') },
    });
    expect(((await noReason.json()) as { response_action: string }).response_action).toBe('errors');
    const sub = await s.slack.submitView({
      callbackId: 'incident_confirm',
      privateMetadata: open.args.view.private_metadata,
      values: { reason: text('Credential rotated, agent rebuilt') },
    });
    expect(sub.status).toBe(200);
    const desc = await eventually(async () => {
      const d = await s.stack.temporal.client.workflow.getHandle(`incident-${incidentId}`).describe();
      return d.status.name === 'COMPLETED' ? d : undefined;
    }, 20_000);
    expect(desc.status.name).toBe('COMPLETED');
    const closed = await eventually(() => events('incident.closed')[0]);
    expect(closed.actor).toBe('alice (UALICE01)');
    expect(closed.message).toContain('Credential rotated, agent rebuilt');
    // Said in the channel through the command's response_url, so a Web API outage cannot lose it.
    const said = await eventually(() =>
      s.fake.responses(responsePath).find((r) => String(r.text).includes('Resolved')),
    );
    expect(said.response_type).toBe('in_channel');
    expect(said.text).toContain('<@UALICE01>');
  });
});
