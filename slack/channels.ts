/**
 * The Slack side of the notifier activities: the incident channel (created once, its ref stored
 * in db/slack-refs.ts, reused by name after a crash), inviting responders, and the summary card's
 * view of an incident.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/client';
import { rolesOf } from '../db/incident-roles';
import { getIncident } from '../db/incidents';
import { loadRef, saveRef } from '../db/slack-refs';
import type { SummaryView } from './blocks/summary';
import { SlackCallError, type SlackApi } from './client';

/** What the workflow knows better than the DB projection (it may run ahead of it). */
export interface SummaryFacts {
  incidentId: string;
  status: string;
  phase: string;
  alertCount: number;
  pendingApprovals: number;
  playbookId?: string;
  /** Orders renders (see workflows/slack-notify.ts renderVersion); a stale one is skipped. */
  version?: number;
}

export function slugify(title: string, max: number): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}

/** `inc-<id>-<slug>` (`drill-…` for drills), within Slack's 80-character limit. */
export function channelName(incident: { id: string; title: string; mode: 'live' | 'drill' }): string {
  const prefix = `${incident.mode === 'drill' ? 'drill' : 'inc'}-${incident.id.replace(/^inc-/, '')}`;
  const slug = slugify(incident.title, 79 - prefix.length);
  return slug ? `${prefix}-${slug}` : prefix;
}

async function findChannelByName(
  api: SlackApi,
  name: string,
  isPrivate: boolean,
): Promise<{ id: string; archived: boolean } | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await api.call('conversations.list', {
      // A private namesake is listed only if the bot is in it; that is the one it may reuse.
      types: isPrivate ? 'private_channel' : 'public_channel',
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    const channels = (res.channels ?? []) as { id: string; name: string; is_archived?: boolean }[];
    const hit = channels.find((c) => c.name === name);
    if (hit) return { id: hit.id, archived: Boolean(hit.is_archived) };
    cursor = (res.response_metadata as { next_cursor?: string } | undefined)?.next_cursor || undefined;
    if (!cursor) return undefined;
  }
  return undefined;
}

/**
 * The incident's channel: the stored one, else created (private unless SLACK_PRIVATE_CHANNELS is
 * false); a name already taken (say, created just before a crash) is reused: a public one by
 * joining it, a private one only if the bot is already in it. An archived or unusable namesake
 * gets a numbered name instead.
 */
export async function ensureChannel(
  db: Db,
  api: SlackApi,
  incidentId: string,
  at: string,
  isPrivate: boolean,
): Promise<{ channel: string; created: boolean }> {
  const stored = await loadRef(db, incidentId, 'channel');
  if (stored) return { channel: stored.channel, created: false };
  const inc = await getIncident(db, incidentId);
  if (!inc)
    throw ApplicationFailure.nonRetryable(
      `incident ${incidentId} has no row: intake must create it first`,
      'IncidentNotFound',
    );
  const base = channelName(inc);
  for (let n = 1; n <= 5; n++) {
    const name = n === 1 ? base : `${base.slice(0, 76)}-${n}`;
    const res = await api
      .call('conversations.create', { name, is_private: isPrivate })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'name_taken') return undefined;
        throw err;
      });
    let channel = (res?.channel as { id?: string } | undefined)?.id;
    if (!channel) {
      const existing = await findChannelByName(api, name, isPrivate);
      if (!existing || existing.archived) continue;
      if (!isPrivate) await api.call('conversations.join', { channel: existing.id });
      channel = existing.id;
    }
    await saveRef(db, { incidentId, ref: 'channel', channel, ts: '', createdAt: at });
    return { channel, created: true };
  }
  throw new Error(`no usable channel name for ${incidentId}: ${base} and its numbered variants are taken`);
}

/**
 * Invites `users` to the incident channel. Slack refuses a whole batch for one user it cannot
 * invite (a deactivated account, a guest), so a refused batch is retried one user at a time:
 * everyone who can be invited is, and the error names those who could not. A public channel
 * the bot was removed from is joined first (`not_in_channel`).
 */
export async function inviteResponders(
  api: SlackApi,
  channel: string,
  users: string[],
  isPrivate: boolean,
): Promise<void> {
  if (users.length === 0) return;
  let joined = false;
  const invite = (who: string[]): Promise<void> =>
    api.call('conversations.invite', { channel, users: who.join(','), force: true }).then(
      () => undefined,
      async (err: unknown) => {
        const code = codeOf(err);
        // Already members (a retry, or a reused channel): nothing to do.
        if (code === 'already_in_channel') return undefined;
        if (code === 'not_in_channel' && !isPrivate && !joined) {
          joined = true;
          await api.call('conversations.join', { channel });
          return invite(who);
        }
        throw err;
      },
    );
  try {
    await invite(users);
  } catch (err) {
    if (users.length === 1 || !(err instanceof SlackCallError) || err.retryable) throw err;
    const refused: string[] = [];
    let last: SlackCallError = err;
    for (const user of users) {
      await invite([user]).catch((e: unknown) => {
        if (!(e instanceof SlackCallError) || e.retryable) throw e;
        refused.push(`${user} (${e.code})`);
        last = e;
      });
    }
    if (refused.length > 0)
      throw new SlackCallError(
        `Slack refused to invite ${refused.join(', ')}; the other responders are in the channel`,
        last.code,
        false,
        undefined,
      );
  }
}

function codeOf(err: unknown): string | undefined {
  return err instanceof SlackCallError ? err.code : undefined;
}

export async function summaryView(
  db: Db,
  links: { publicUrl: string | undefined; temporalUiUrl: string | undefined; namespace: string },
  incidentId: string,
  facts: SummaryFacts | undefined,
): Promise<SummaryView> {
  const inc = await getIncident(db, incidentId);
  if (!inc) throw new Error(`incident ${incidentId} has no row`);
  const roles = (await rolesOf(db, incidentId)).map((r) => ({ role: r.role, userId: r.userId }));
  return {
    incidentId,
    title: inc.title,
    severity: inc.severity,
    mode: inc.mode,
    status: facts?.status ?? inc.status,
    phase: facts?.phase ?? inc.phase,
    agentId: inc.agentId,
    alertCount: Math.max(facts?.alertCount ?? 0, inc.alertCount),
    playbookId: facts?.playbookId ?? inc.playbookId,
    pendingApprovals: facts?.pendingApprovals ?? 0,
    roles,
    incidentUrl: links.publicUrl
      ? `${links.publicUrl.replace(/\/$/, '')}/v1/incidents/${incidentId}`
      : undefined,
    temporalUrl: links.temporalUiUrl
      ? `${links.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(inc.workflowId)}`
      : undefined,
  };
}
