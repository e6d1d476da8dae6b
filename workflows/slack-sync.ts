/**
 * Keeps an incident's Slack presence current from inside the workflow without ever holding the
 * incident up: a small loop, started next to the main loop, opens the channel once and then
 * re-renders the summary card whenever `changed()` was called, coalescing bursts into one update.
 * Slack activities retry without limit (Slack's outage must not lose an update), so the loop may
 * wait; the incident does not. A non-retryable Slack failure (bad token, missing scope) is logged
 * and the incident carries on. Deterministic: only @temporalio/workflow and activity types.
 */
import { ActivityFailure, condition, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

type SummaryFacts = Parameters<Activities['slackSyncSummary']>[0];

const slack = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

export class SlackSync {
  private dirty = false;
  private stopping = false;
  private done: Promise<void> | undefined;

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

  /** Delivers the last pending update, then ends the loop (before close or continue-as-new). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    if (this.enabled === undefined) {
      this.enabled =
        (await this.attempt(() => slack.slackIncidentOpened({ incidentId: this.incidentId })))?.enabled ??
        false;
    }
    while (this.enabled) {
      await condition(() => this.dirty || this.stopping);
      if (!this.dirty) return;
      this.dirty = false;
      await this.attempt(() => slack.slackSyncSummary(this.facts()));
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
