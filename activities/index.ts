/**
 * All I/O the workflows ask for, built by one factory from injected dependencies so tests hand in
 * real local services (SQLite files, fake Slack over HTTP) instead of mocks.
 */
import type { Db } from '../db/client';
import { systemClock, type Clock } from '../domain/clock';
import { createSlackActivities, type SlackNotifierDeps } from '../slack/notifier';
import { createActionActivities, type LiveConnectors } from './actions';
import { createIncidentActivities } from './incidents';
import { createPostmortemActivities } from './postmortem';
import { createRefusalActivities } from './refusals';

export interface ActivityDeps {
  db: Db;
  clock?: Clock;
  /** Live connectors, built on first live use (never in drill mode). */
  liveConnectors?: () => LiveConnectors;
  /** Slack notifier (see activities/slack.ts); absent when Slack is not configured. */
  slack?: SlackNotifierDeps['slack'];
}

export function createActivities(deps: ActivityDeps) {
  const clock = deps.clock ?? systemClock;
  return {
    ...createIncidentActivities({ db: deps.db, clock }),
    ...createPostmortemActivities({ db: deps.db, clock }),
    ...createActionActivities({ db: deps.db, clock, liveConnectors: deps.liveConnectors ?? (() => ({})) }),
    ...createSlackActivities({ db: deps.db, clock, slack: deps.slack }),
    ...createRefusalActivities({ db: deps.db, clock }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
