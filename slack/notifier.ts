/**
 * The Slack notifier (registered as activities by activities/index.ts; the drill driver posts
 * through it too): the incident channel, its summary card, approval requests, manual
 * tasks and escalations. Every one is a no-op returning `{ enabled: false }` when Slack is not
 * configured, so workflows call them unconditionally. Message refs are stored in slack_messages,
 * so a retried or repeated call updates what it posted instead of posting again. Slack failures
 * become Temporal retries: 429 waits Slack's Retry-After, 5xx/unreachable back off; a deleted
 * message is posted again and a channel the bot left is joined; anything else fails
 * non-retryably with a message naming the cause and what to do (slack/client.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { SlackConfig } from '../app/config';
import type { Db } from '../db/client';
import { postmortemSummaryFor } from '../db/postmortem-report';
import { deleteRef, loadRef, renderedVersion, saveRef, saveRenderedVersion } from '../db/slack-refs';
import type { Clock } from '../domain/clock';
import { approvalMessage, type ApprovalOutcome, type ApprovalView } from './blocks/approval';
import { escalationMessage, type EscalationView } from './blocks/escalation';
import { announcement, summaryCard } from './blocks/summary';
import { taskDone, taskMessage, type TaskView } from './blocks/task';
import { ensureChannel, inviteResponders, summaryView, type SummaryFacts } from './channels';
import { SlackCallError, type SlackApi } from './client';
import { cutText } from './escape';
import { findPosted, metadataFor, slackTs, supersede } from './message-identity';

export interface SlackLinks {
  publicUrl: string | undefined;
  temporalUiUrl: string | undefined;
  namespace: string;
}

export interface SlackNotifierDeps {
  db: Db;
  clock: Clock;
  /** undefined: Slack is not configured and every activity here does nothing. */
  slack: { api: SlackApi; config: SlackConfig; links: SlackLinks } | undefined;
}

export interface SlackOutcome {
  enabled: boolean;
}

/** One render at a time per message in this worker, so a version check and its post stay together. */
const rendering = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = rendering.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  rendering.set(key, next);
  void next
    .catch(() => undefined)
    .finally(() => {
      if (rendering.get(key) === next) rendering.delete(key);
    });
  return next;
}

async function slackCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof SlackCallError)) throw err;
    throw ApplicationFailure.create({
      message: err.message,
      type: `Slack.${err.code}`,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
    });
  }
}

export function createSlackActivities({ db, clock, slack }: SlackNotifierDeps) {
  const now = () => clock.now().toISOString();
  const off: SlackOutcome = { enabled: false };
  const on: SlackOutcome = { enabled: true };

  /** Posts or updates message `ref`; with a version, skips a render older than the one shown. */
  async function post(
    incidentId: string,
    ref: string,
    channel: string,
    msg: object,
    version?: number,
  ): Promise<void> {
    if (version === undefined) return postNow(incidentId, ref, channel, msg);
    return oneAtATime(`${incidentId}:${ref}`, async () => {
      if ((await renderedVersion(db, incidentId, ref)) >= version) return;
      await postNow(incidentId, ref, channel, msg);
      await saveRenderedVersion(db, incidentId, ref, version, now());
    });
  }

  const codeOf = (err: unknown) => (err instanceof SlackCallError ? err.code : undefined);

  /**
   * Posts or updates message `ref`, repairing what can be repaired: a message someone deleted
   * (`message_not_found`) is posted anew, a public channel the bot left (`not_in_channel`) is
   * joined once before posting again, and a post Slack performed despite answering with an error
   * is adopted rather than posted twice (slack/message-identity.ts).
   */
  async function postNow(incidentId: string, ref: string, channel: string, msg: object): Promise<void> {
    const existing = await loadRef(db, incidentId, ref);
    if (existing) {
      const updated = await slack!.api
        .call('chat.update', { channel: existing.channel, ts: existing.ts, ...msg })
        .then(
          () => true,
          (err: unknown) => {
            if (codeOf(err) === 'message_not_found') return false;
            throw err;
          },
        );
      if (updated) return;
    }
    const target = existing?.channel ?? channel;
    if (await adoptPosted(incidentId, ref, msg)) return;
    // Marks the post as in doubt until Slack confirms it: if Slack performs it but answers with
    // an error, the next attempt finds it by its metadata instead of posting it twice.
    const pending = `posting:${ref}`;
    if (!(await loadRef(db, incidentId, pending)))
      await saveRef(db, {
        incidentId,
        ref: pending,
        channel: target,
        ts: slackTs(Date.now() - 5000),
        createdAt: now(),
      });
    const send = () =>
      slack!.api.call('chat.postMessage', {
        channel: target,
        unfurl_links: false,
        ...msg,
        metadata: metadataFor(incidentId, ref),
      });
    const res = await send().catch(async (err: unknown) => {
      if (codeOf(err) !== 'not_in_channel') throw err;
      await slack!.api.call('conversations.join', { channel: target });
      return send();
    });
    await saveRef(db, {
      incidentId,
      ref,
      channel: String(res.channel ?? target),
      ts: String(res.ts),
      createdAt: now(),
    });
    await deleteRef(db, incidentId, pending);
  }

  /**
   * After a post Slack may have performed despite its error: the message found in the channel's
   * history (the first copy; any others are superseded) becomes message `ref` and gets this
   * render. false when there is no post in doubt, or nothing was found (it was not performed).
   * A channel whose history the bot cannot read (an announcement channel it posts to without
   * being a member) is not looked up: such a message has no buttons.
   */
  async function adoptPosted(incidentId: string, ref: string, msg: object): Promise<boolean> {
    const pending = await loadRef(db, incidentId, `posting:${ref}`);
    if (!pending) return false;
    const copies = await findPosted(slack!.api, pending.channel, pending.ts, incidentId, ref).catch(
      (err: unknown) => {
        const code = codeOf(err);
        if (code === 'not_in_channel' || code === 'channel_not_found') return [];
        throw err;
      },
    );
    const [first, ...duplicates] = copies;
    if (!first) return false;
    for (const ts of duplicates) await supersede(slack!.api, pending.channel, ts, incidentId, ref);
    await slack!.api.call('chat.update', { channel: pending.channel, ts: first, ...msg });
    await saveRef(db, { incidentId, ref, channel: pending.channel, ts: first, createdAt: now() });
    await deleteRef(db, incidentId, `posting:${ref}`);
    return true;
  }

  /**
   * The incident's channel, created at most once: the card and the first approval of a playbook
   * incident start together, and would otherwise both call conversations.create.
   */
  function openChannel(incidentId: string) {
    return oneAtATime(`${incidentId}:channel`, () =>
      ensureChannel(db, slack!.api, incidentId, now(), slack!.config.privateChannels),
    );
  }

  async function incidentChannel(incidentId: string): Promise<string> {
    return (await openChannel(incidentId)).channel;
  }

  async function postReport(input: { incidentId: string; ref: string; text: string }): Promise<SlackOutcome> {
    if (!slack) return off;
    return slackCall(async () => {
      const channel = await incidentChannel(input.incidentId);
      const text = cutText(input.text, 2900);
      await post(input.incidentId, `report:${input.ref}`, channel, {
        text,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
      });
      return on;
    });
  }

  return {
    /**
     * Opening an incident's Slack presence is four parts the workflow runs and retries each on
     * its own (workflows/slack-sync.ts), so one failing never takes the others down: the
     * channel (created or reused), the responders' invites, the summary card (slackSyncSummary)
     * and the announcement. Invites, card and announcement open the channel themselves if the
     * channel part has not managed to.
     */
    async slackOpenChannel(input: { incidentId: string }): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        await openChannel(input.incidentId);
        return on;
      });
    },

    /** Invites the configured responders (each one alone if the batch is refused). */
    async slackInviteResponders(input: { incidentId: string }): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        const channel = await incidentChannel(input.incidentId);
        await inviteResponders(slack.api, channel, slack.config.responders, slack.config.privateChannels);
        return on;
      });
    },

    /** Announces the incident in SLACK_ANNOUNCE_CHANNEL (once), linking its channel. */
    async slackAnnounce(input: { incidentId: string }): Promise<SlackOutcome> {
      if (!slack) return off;
      const announce = slack.config.announceChannel;
      if (!announce) return on;
      return slackCall(async () => {
        if (await loadRef(db, input.incidentId, 'announce')) return on;
        const channel = await incidentChannel(input.incidentId);
        const view = await summaryView(db, slack.links, input.incidentId, undefined);
        await post(input.incidentId, 'announce', announce, announcement(view, channel));
        return on;
      });
    },

    /** Re-renders the summary card from the incident row and the workflow's latest facts. */
    async slackSyncSummary(facts: SummaryFacts): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        const channel = await incidentChannel(facts.incidentId);
        const view = await summaryView(db, slack.links, facts.incidentId, facts);
        await post(facts.incidentId, 'summary', channel, summaryCard(view), facts.version);
        return on;
      });
    },

    /** Posts the approval request, or re-renders it with progress or its final outcome. */
    async slackShowApproval(input: {
      view: ApprovalView;
      outcome?: ApprovalOutcome;
      version?: number;
    }): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        const { incidentId, stepId } = input.view;
        const channel = await incidentChannel(incidentId);
        await post(
          incidentId,
          `approval:${stepId}`,
          channel,
          approvalMessage(input.view, input.outcome),
          input.version,
        );
        return on;
      });
    },

    /** Posts a manual task with its Done button, or marks it done. */
    async slackShowTask(input: {
      view: TaskView;
      done?: { by: string; at: string; note?: string };
      version?: number;
    }): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        const { incidentId, stepId } = input.view;
        const channel = await incidentChannel(incidentId);
        const msg = taskMessage(input.view);
        await post(
          incidentId,
          `task:${stepId}`,
          channel,
          input.done ? taskDone(msg, input.done.by, input.done.at, input.done.note) : msg,
          input.version,
        );
        return on;
      });
    },

    /**
     * Posts a report digest (mrkdwn the caller built from stored facts) to the incident's channel;
     * `ref` names the report, so a retry updates the one message instead of posting again.
     */
    slackPostReport: postReport,

    /** Posts the stored post-mortem's digest, with a link to the full report. */
    async slackPostPostmortem(input: { incidentId: string }): Promise<SlackOutcome> {
      if (!slack) return off;
      const url = slack.links.publicUrl
        ? `${slack.links.publicUrl}/v1/incidents/${input.incidentId}/postmortem.md`
        : undefined;
      const text = await postmortemSummaryFor(db, input.incidentId, now(), url);
      if (!text) return on;
      return postReport({ incidentId: input.incidentId, ref: 'postmortem', text });
    },

    /** Posts an escalation with a mention of its target; `key` makes a retry post it once. */
    async slackPostEscalation(input: EscalationView & { key: string }): Promise<SlackOutcome> {
      if (!slack) return off;
      return slackCall(async () => {
        const ref = `escalation:${input.key}`;
        if (await loadRef(db, input.incidentId, ref)) return on;
        const channel = await incidentChannel(input.incidentId);
        await post(input.incidentId, ref, channel, escalationMessage(input));
        return on;
      });
    },
  };
}
