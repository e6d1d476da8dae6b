/**
 * All I/O the workflows ask for, built by one factory from injected dependencies so tests hand in
 * real local services (SQLite files, fake Slack over HTTP) instead of mocks.
 */
import type { Db } from '../db/client';
import { createIncidentActivities, type Clock } from './incidents';

export interface ActivityDeps {
  db: Db;
  clock?: Clock;
}

export const systemClock: Clock = { now: () => new Date() };

export function createActivities(deps: ActivityDeps) {
  const clock = deps.clock ?? systemClock;
  return {
    ...createIncidentActivities({ db: deps.db, clock }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
