/**
 * `/incident <subcommand>`: declare, status, note, role, escalate, playbook, release, resolve,
 * abort, drill. It acks
 * at once and replies through response_url. Subcommands other than `declare` and `drill` act on
 * the incident whose channel they are typed in; changes go to the incident workflow as updates.
 */
import type { App, RespondFn, SlashCommand } from '@slack/bolt';
import type { UpdateDefinition } from '@temporalio/client';
import { assignRole, rolesOf } from '../../../db/incident-roles';
import { incidentForChannel } from '../../../db/slack-refs';
import { updateIncident } from '../../../temporal/client';
import { addNote, attachPlaybook, escalate, requestRelease } from '../../../workflows/messages';
import { escalationMessage } from '../../blocks/escalation';
import { confirmModal, declareModal } from '../../blocks/modals';
import type { SlackMessage } from '../../blocks/types';
import {
  actorFor,
  auditRefusal,
  nowIso,
  refusalOf,
  signed,
  slackTimelineEvent,
  type SlackDeps,
} from '../../context';
import { mentionUser, safeText, unescapeSlack } from '../../escape';
import { statusText } from './status';

export const USAGE = [
  '`/incident declare` open an incident by hand',
  '`/incident status` where this incident stands',
  '`/incident note <text>` add a note to the timeline',
  '`/incident role <commander|scribe|comms|…> @user` assign a response role',
  '`/incident escalate [@user|@group] <reason>` escalate',
  '`/incident playbook <name> [reason]` attach a playbook to an incident running triage',
  '`/incident release <reason>` ask for a release of containment (a k-of-n approval)',
  '`/incident resolve` / `/incident abort` close or stop the incident (asks to confirm)',
  '`/incident drill` how to run a drill',
].join('\n');

const ROLE = /^[a-z][a-z0-9_-]{1,30}$/;
/** Slack turns `@alice` into `<@U123|alice>` (or `<@U123>`); groups into `<!subteam^S123|@g>`. */
const USER_REF = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
const TARGET_REF = /^<(?:@([UW][A-Z0-9]+)|!subteam\^(S[A-Z0-9]+))(?:\|[^>]*)?>$/;

type Ctx = { command: SlashCommand; respond: RespondFn; deps: SlackDeps; incidentId: string };

async function reply(respond: RespondFn, text: string, inChannel = false): Promise<void> {
  await respond({ response_type: inChannel ? 'in_channel' : 'ephemeral', text });
}

/** Shown to the whole channel once the workflow accepted the change. */
async function announce(respond: RespondFn, message: SlackMessage): Promise<void> {
  await respond({
    response_type: 'in_channel',
    text: message.text,
    ...(message.blocks.length > 0 ? { blocks: message.blocks as never } : {}),
  });
}

async function runUpdate<R, A>(
  c: Ctx,
  update: UpdateDefinition<R, [A]>,
  arg: A,
  done: SlackMessage,
): Promise<void> {
  try {
    await updateIncident(c.deps.temporal, c.incidentId, update, arg, `slack-${c.command.trigger_id}`);
    await announce(c.respond, done);
  } catch (err) {
    const refusal = refusalOf(err);
    if (!refusal) throw err;
    const text =
      refusal.kind === 'unsupported'
        ? `This incident's workflow does not support \`${update.name}\` yet.`
        : `Not done: ${safeText(refusal.detail, 500)}`;
    await reply(c.respond, text);
  }
}

async function status(c: Ctx): Promise<void> {
  await reply(c.respond, await statusText(c.deps, c.incidentId));
}

/** SLACK_USER_ROLES roles that may assign response roles in any incident. */
export const ROLE_ASSIGNERS = ['incident_commander', 'admin'];

/** Whether `actor` may assign roles here: this incident's commander, or an admin by config. */
async function mayAssignRoles(c: Ctx, actor: { id: string; roles?: string[] }): Promise<boolean> {
  if ((actor.roles ?? []).some((r) => ROLE_ASSIGNERS.includes(r))) return true;
  const roles = await rolesOf(c.deps.db, c.incidentId);
  return roles.some((r) => r.role === 'commander' && r.userId === actor.id);
}

async function role(c: Ctx, args: string[]): Promise<void> {
  const [name, who] = args;
  const user = who ? USER_REF.exec(who)?.[1] : undefined;
  if (!name || !ROLE.test(name) || !user) return reply(c.respond, 'Usage: `/incident role <role> @user`');
  const actor = actorFor(c.deps, { id: c.command.user_id, name: c.command.user_name });
  if (!(await mayAssignRoles(c, actor))) {
    await auditRefusal(c.deps, {
      incidentId: c.incidentId,
      kind: 'role.unauthorized',
      actor,
      message: `Refused: ${actor.id} tried to make ${user} ${name}`,
      key: c.command.trigger_id,
      data: { role: name, userId: user },
    });
    return reply(
      c.respond,
      ':no_entry: Only the incident commander (`/incident role commander @you`, by an admin) or a user with the `incident_commander` or `admin` role in SLACK_USER_ROLES may assign roles.',
    );
  }
  const at = nowIso(c.deps);
  await assignRole(
    c.deps.db,
    { incidentId: c.incidentId, role: name, userId: user, assignedBy: actor.id, assignedAt: at },
    slackTimelineEvent({
      incidentId: c.incidentId,
      kind: 'role.assigned',
      actor,
      message: `${name} is now ${user}`,
      key: c.command.trigger_id,
      data: { role: name, userId: user },
    }),
    at,
  );
  await reply(
    c.respond,
    `${mentionUser(user)} is now *${name}* (assigned by ${mentionUser(actor.id)}).`,
    true,
  );
}

/** `/incident playbook <name>`: attaches a playbook this install loads, pinned as at open. */
async function attach(c: Ctx, name: string | undefined, reason: string): Promise<void> {
  if (!name) return reply(c.respond, 'Usage: `/incident playbook <name> [reason]`');
  const playbook = c.deps.outbox.playbook(name);
  if (!playbook) return reply(c.respond, `No playbook \`${safeText(name, 100)}\` is loaded here.`);
  const actor = actorFor(c.deps, { id: c.command.user_id, name: c.command.user_name });
  const decisionId = `slack-${c.command.trigger_id}`;
  return runUpdate(
    c,
    attachPlaybook,
    signed(c.deps, c.incidentId, 'attach', {
      decisionId,
      actor,
      playbook,
      ...(reason ? { reason } : {}),
    }),
    {
      text: `:clipboard: ${mentionUser(actor.id)} attached playbook *${safeText(playbook.id, 100)}* v${playbook.version}${reason ? `: ${safeText(reason, 1000)}` : ''}`,
      blocks: [],
    },
  );
}

export function registerIncidentCommand(app: App, deps: SlackDeps): void {
  app.command('/incident', async ({ command, ack, respond, client }) => {
    await ack();
    const [sub = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    // Slack sends the text with &, < and > escaped; free text is stored and shown as typed.
    const rest = command.text.trim().slice(sub.length).trim();
    if (sub === 'declare') {
      await client.views.open({
        trigger_id: command.trigger_id,
        view: declareModal({ channelId: command.channel_id, responseUrl: command.response_url }) as never,
      });
      return;
    }
    if (sub === 'drill') {
      return reply(
        respond,
        'Drills run from the command line: `npm run cli -- drill run <scenario>` (see `npm run cli -- drill --help`).',
      );
    }
    const subs = ['status', 'note', 'role', 'escalate', 'playbook', 'release', 'resolve', 'abort'];
    if (sub === 'help' || !subs.includes(sub)) {
      return reply(respond, `Firebreak incident commands:\n${USAGE}`);
    }
    const incidentId = await incidentForChannel(deps.db, command.channel_id);
    if (!incidentId)
      return reply(
        respond,
        'Run this in an incident channel (`#inc-…`), or open one with `/incident declare`.',
      );
    const c: Ctx = { command, respond, deps, incidentId };
    const actor = actorFor(deps, { id: command.user_id, name: command.user_name });
    const decisionId = `slack-${command.trigger_id}`;
    switch (sub) {
      case 'status':
        return status(c);
      case 'role':
        return role(c, args);
      case 'note':
        if (!rest) return reply(respond, 'Usage: `/incident note <text>`');
        return runUpdate(
          c,
          addNote,
          signed(deps, incidentId, 'note', { decisionId, actor, text: unescapeSlack(rest) }),
          {
            text: `:memo: Note added by ${mentionUser(actor.id)}: ${safeText(unescapeSlack(rest), 2000)}`,
            blocks: [],
          },
        );
      case 'escalate': {
        const m = args[0] ? TARGET_REF.exec(args[0]) : null;
        const target = m ? (m[1] ?? m[2]) : undefined;
        const reason = unescapeSlack((m ? rest.slice(args[0]!.length) : rest).trim());
        if (!reason) return reply(respond, 'Usage: `/incident escalate [@user|@group] <reason>`');
        return runUpdate(
          c,
          escalate,
          signed(deps, incidentId, 'escalate', { decisionId, actor, reason, ...(target ? { target } : {}) }),
          // In the channel, mentioning the target (or @here), as an approval's escalation is posted.
          escalationMessage({ incidentId, target, reason, by: actor.id }),
        );
      }
      case 'playbook':
        return attach(c, args[0], unescapeSlack(rest.slice(args[0]?.length ?? 0).trim()));
      case 'release': {
        const reason = unescapeSlack(rest);
        if (!reason) return reply(respond, 'Usage: `/incident release <reason>`');
        return runUpdate(
          c,
          requestRelease,
          signed(deps, incidentId, 'release_request', { decisionId, actor, reason }),
          {
            text: `:unlock: ${mentionUser(actor.id)} asked for a release of this incident's containment: ${safeText(reason, 1000)}. Nothing is re-enabled until the release request is approved.`,
            blocks: [],
          },
        );
      }
      case 'resolve':
      case 'abort':
        await client.views.open({
          trigger_id: command.trigger_id,
          view: confirmModal({
            kind: sub,
            incidentId,
            channelId: command.channel_id,
            responseUrl: command.response_url,
          }) as never,
        });
        return;
    }
  });
}
