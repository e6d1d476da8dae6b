/**
 * How a playbook run stops early: `PlaybookAborted` unwinds the whole run (its compensations then
 * run in reverse), `StepFailed` ends one step (its `on_failure` applies). `errorMessage` reads the
 * reason a failure carries, for the timeline.
 */
import { ActivityFailure } from '@temporalio/workflow';

export class PlaybookAborted extends Error {
  constructor(
    readonly reason: string,
    readonly actor: string,
  ) {
    super(reason);
  }
}

export class StepFailed extends Error {}

/** The failure's own reason, not the "Activity task failed" wrapper around it. */
export function errorMessage(err: unknown): string {
  let e = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
