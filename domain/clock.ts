/** The clock that activities, the Slack notifier and the drill driver read: injected, so tests and drills can set it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
