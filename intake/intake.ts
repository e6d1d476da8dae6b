/**
 * The durable half of an intake request, after the HTTP edge (api/intake.ts) has authenticated
 * the source and normalized the body: review each alert against what its source is trusted with
 * (source-scope.ts), route it by the config file's rules, commit them
 * with the other requests of this moment (group commit, one fsync), then kick the outbox. When
 * `accept` resolves the alerts survive a crash, so the caller may answer 202.
 */
import type { RouteRule, SourceConfig } from '../app/config-file';
import type { StoredAlert } from '../db/alerts';
import type { Db } from '../db/client';
import type { Alert } from '../domain/alert';
import { GroupCommitter } from './group-commit';
import type { Outbox } from './outbox';
import { routeAlert } from './routing';
import { reviewAlerts } from './source-scope';

export interface AlertIntakeOptions {
  db: Db;
  outbox: Outbox;
  rules: RouteRule[];
  /** Told each group commit's duration and how many requests it carried. */
  onCommit?: (seconds: number, requests: number) => void;
}

export class AlertIntake {
  private readonly committer: GroupCommitter;

  constructor(private readonly opts: AlertIntakeOptions) {
    this.committer = new GroupCommitter(opts.db, opts.onCommit);
  }

  /**
   * Reviews, routes, stores and dispatches one request's alerts from `source`; returns where each
   * was stored. Each alert's agent id is already resolved (domain/alert.ts resolveAgentId).
   */
  async accept(alerts: Alert[], receivedAt: string, source?: SourceConfig): Promise<StoredAlert[]> {
    const reviewed = await reviewAlerts(this.opts.db, source, alerts);
    const items = reviewed.map(({ alert, notes }) => ({
      alert,
      route: { ...routeAlert(this.opts.rules, alert), ...(notes.length ? { notes } : {}) },
    }));
    const stored = await this.committer.store({ items, receivedAt });
    this.opts.outbox.kick();
    return stored;
  }
}
