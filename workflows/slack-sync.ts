/**
 * Keeps an incident's Slack presence current from inside the workflow without ever holding the
 * incident up: a small loop, started next to the main loop, opens the channel once and then
 * re-renders the summary card whenever `changed()` was called, coalescing bursts into one update.
 * Slack activities retry without limit (Slack's outage must not lose an update), so the loop may
 * wait; the incident does not. A non-retryable Slack failure (bad token, missing scope) is logged
 * and the incident carries on. Deterministic: only @temporalio/workflow and activity types.
 */
import { ActivityFailure, condition, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { renderVersion } from './slack-notify';

/** How long close and continue-as-new wait for the card's last render. */
const STOP_WAIT = '10 seconds';

type SummaryFacts = Omit<Parameters<Activities['slackSyncSummary']>[0], 'version'>;

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

  constructor(
    private readonly incidentId: string,
    private readonly facts: () => SummaryFacts,
    /** From a previous run (continue-as-new): whether Slack is on and the channel exists. */
    public enabled: boolean | undefined,
  ) {}

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
    if (this.enabled === undefined) {
      this.enabled =
        (await this.attempt(() => slack.slackIncidentOpened({ incidentId: this.incidentId })))?.enabled ??
        false;
    }
    while (this.enabled) {
      await condition(() => this.dirty || this.stopping || JSON.stringify(this.facts()) !== this.shown);
      const facts = this.facts();
      if (!this.dirty && JSON.stringify(facts) === this.shown) return;
      this.dirty = false;
      this.shown = JSON.stringify(facts);
      await this.attempt(() => slack.slackSyncSummary({ ...facts, version: renderVersion() }));
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
