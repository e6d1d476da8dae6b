/**
 * Keeps an incident's Slack presence current from inside the workflow without ever holding the
 * incident up: a small loop, started next to the main loop, opens the incident's Slack presence
 * and then re-renders the summary card whenever `changed()` was called, coalescing bursts into
 * one update. Opening is four parts, each retried on its own (see `openPart`): the channel, the
 * responders' invites, the card and the announcement, so one part failing (an archived announce
 * channel, one `channel_not_found`, a token being rotated) neither switches Slack off for the
 * incident nor leaves a channel with only the bot in it. A part that still fails in the end is
 * recorded on the timeline with its cause; the others carry on. Slack activities retry transient
 * failures without limit, so the loop may wait; the incident does not. Deterministic: only
 * @temporalio/workflow and activity types.
 */
import { ActivityFailure, condition, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TimelineEvent } from '../activities/incidents';
import { renderVersion } from './slack-notify';

/** How long close and continue-as-new wait for the card's last render. */
const STOP_WAIT = '10 seconds';

/**
 * Pauses before an opening part that failed with one of CLEARS_UP is tried again: a token being
 * rotated, or a channel Slack has not finished creating, clear up within minutes.
 */
const PART_PAUSES = ['5 seconds', '30 seconds', '2 minutes', '10 minutes'] as const;

/**
 * Permanent Slack errors (the activity does not retry them) that waiting can clear up. Any
 * other (an archived channel, a refused layout, a missing scope) is recorded at once.
 */
const CLEARS_UP = new Set(
  [
    'invalid_auth',
    'not_authed',
    'token_expired',
    'token_revoked',
    'account_inactive',
    'channel_not_found',
    'not_in_channel',
  ].map((code) => `Slack.${code}`),
);

type SummaryFacts = Omit<Parameters<Activities['slackSyncSummary']>[0], 'version'>;
type Part = 'channel' | 'invites' | 'card' | 'announcement';

const PART_NAMES: Record<Part, string> = {
  channel: 'the incident channel',
  invites: "the responders' invites",
  card: 'the summary card',
  announcement: 'the announcement',
};

const slack = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

export class SlackSync {
  private dirty = false;
  private stopping = false;
  private done: Promise<void> | undefined;
  /** What the card last showed; a change of phase, status or pending approvals re-renders it. */
  private shown = '';
  /** Opening parts not settled yet; a run handed over before they settle opens again. */
  private opening = 0;
  private on: boolean | undefined;

  constructor(
    private readonly incidentId: string,
    private readonly facts: () => SummaryFacts,
    /** From a previous run (continue-as-new): whether Slack is on and opened for this incident. */
    enabled: boolean | undefined,
    /** Records a timeline event (a part of the Slack presence that failed for good). */
    private readonly note: (e: TimelineEvent) => void,
  ) {
    this.on = enabled;
  }

  /** Whether Slack is on; undefined until known and opened (the next run then opens again). */
  get enabled(): boolean | undefined {
    return this.opening > 0 ? undefined : this.on;
  }

  start(): void {
    this.done = this.loop();
  }

  /** The incident changed: the card will be re-rendered (once, however many calls). */
  changed(): void {
    this.dirty = true;
  }

  /**
   * Delivers the last pending update, then ends the loop (before close or continue-as-new), but
   * waits at most STOP_WAIT for it: closing an incident never waits on a failing Slack (the
   * card's last render is then abandoned with the run).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.race([this.done, sleep(STOP_WAIT)]);
  }

  private async loop(): Promise<void> {
    if (this.on === undefined) await this.open();
    while (this.on) {
      await condition(() => this.dirty || this.stopping || JSON.stringify(this.facts()) !== this.shown);
      const facts = this.facts();
      if (!this.dirty && JSON.stringify(facts) === this.shown) return;
      this.dirty = false;
      this.shown = JSON.stringify(facts);
      await this.attempt(() => slack.slackSyncSummary({ ...facts, version: renderVersion() }));
    }
  }

  /**
   * The channel first (the others would each open it too, and one create per channel is the
   * rule), then the card, and beside them the invites and the announcement, which the card's
   * later renders do not wait for. A channel that could not be opened is opened again by the
   * card's next render: Slack stays on.
   */
  private async open(): Promise<void> {
    this.opening++;
    try {
      const opened = await this.openPart('channel', () =>
        slack.slackOpenChannel({ incidentId: this.incidentId }),
      );
      if (opened && !opened.enabled) {
        this.on = false;
        return;
      }
      this.on = true;
      this.background('invites', () => slack.slackInviteResponders({ incidentId: this.incidentId }));
      this.background('announcement', () => slack.slackAnnounce({ incidentId: this.incidentId }));
      const facts = this.facts();
      this.shown = JSON.stringify(facts);
      await this.openPart('card', () => slack.slackSyncSummary({ ...facts, version: renderVersion() }));
    } finally {
      this.opening--;
    }
  }

  private background(part: Part, fn: () => Promise<unknown>): void {
    this.opening++;
    // Its failure is on the timeline already; a workflow being torn down needs nothing more here.
    void this.openPart(part, fn)
      .catch(() => undefined)
      .finally(() => this.opening--);
  }

  /**
   * One opening part: transient failures are retried by the activity itself; a permanent one that
   * can clear up is tried again after each of PART_PAUSES; what still fails is recorded on the
   * timeline with its cause.
   */
  private async openPart<T>(part: Part, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const type = (err.cause as { type?: string } | undefined)?.type ?? 'unknown';
        const pause = CLEARS_UP.has(type) ? PART_PAUSES[attempt] : undefined;
        if (pause) {
          // Stopping (close, continue-as-new) ends the pause and the last try runs at once; if
          // that fails too, the part is left to the next run, not declared failed for good.
          if (this.stopping && attempt > 0) return undefined;
          await condition(() => this.stopping, pause);
          continue;
        }
        const cause = err.cause?.message ?? err.message;
        log.warn('Slack part failed permanently; the incident and its other Slack parts continue', {
          incidentId: this.incidentId,
          part,
          error: cause,
        });
        this.note({
          incidentId: this.incidentId,
          kind: 'slack.failed',
          actor: 'firebreak',
          message: `Slack: ${PART_NAMES[part]} failed for good: ${cause}. The rest of the incident's Slack presence carries on.`,
          data: { part, type },
          eventKey: `${this.incidentId}:slack-failed:${part}`,
        });
        return undefined;
      }
    }
  }

  private async attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('Slack update failed permanently; the incident continues without it', {
        incidentId: this.incidentId,
        error: err.cause?.message ?? err.message,
      });
      return undefined;
    }
  }
}
