/**
 * The connector interface. A connector implements catalog actions (domain/actions.ts declares
 * each one's input, whether it mutates, its verification and undo; connectors/outputs.ts its
 * output): `act` performs the change, `verify` reads the effect back from the target system.
 * executeAction (activities/actions.ts) is the only caller, and the only place that decides
 * between live and drill.
 */
import type { z } from 'zod';
import type { ActionName, ACTIONS } from '../domain/actions';
import type { ACTION_OUTPUTS } from './outputs';

export interface ActionContext {
  incidentId: string;
  stepId: string;
  actor: string;
}

export interface Verification {
  verified: boolean;
  /** What was observed, for the audit log and the step's summary. */
  detail?: string;
  /** The current state as an action output: lets a retry after a crash skip acting again. */
  output?: Record<string, unknown>;
}

/** What a live connector implements for one action (params already validated by its schema). */
export interface ActionHandler {
  /** What the action touches, for the audit log, e.g. `agent:a1` or `postgres:reporting`. */
  target?(params: Record<string, unknown>): string;
  /** Performs the change (or read). Must be safe to call again for the same target. */
  act(
    params: Record<string, unknown>,
    ctx: ActionContext,
  ): Promise<{ summary: string; output: Record<string, unknown> }>;
  /** Reads the effect back from the target; `output` is undefined when checking after a crash. */
  verify?(
    params: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
  ): Promise<Verification>;
}

export type LiveConnectors = Partial<Record<ActionName, ActionHandler>>;

type Input<A extends ActionName> = z.output<(typeof ACTIONS)[A]['input']>;
type Output<A extends ActionName> = z.output<(typeof ACTION_OUTPUTS)[A]>;

/** A typed handler for action A: its params and output are the catalog's types. */
export interface TypedHandler<A extends ActionName> {
  target?(params: Input<A>): string;
  act(params: Input<A>, ctx: ActionContext): Promise<{ summary: string; output: Output<A> }>;
  verify?(params: Input<A>, output: Output<A> | undefined): Promise<Verification>;
}

/** Erases the types for the registry; executeAction validates inputs and outputs at run time. */
export function handler<A extends ActionName>(_action: A, h: TypedHandler<A>): ActionHandler {
  return h as unknown as ActionHandler;
}

/** A connector failure the caller cannot fix by retrying (bad reference, unsupported action). */
export class ConnectorError extends Error {
  override name = 'ConnectorError';
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** A provider's credential, by reference (never its secret). */
export interface CredentialRef {
  id: string;
  agentId: string;
  reference: string;
}

/** What each credential provider (aws_iam, postgres, http) implements for credentials.*. */
export interface CredentialProvider {
  revoke(c: CredentialRef, ctx: ActionContext): Promise<void>;
  reactivate(c: CredentialRef, ctx: ActionContext): Promise<void>;
  /** Issues a replacement and deactivates the old one; returns the new reference. */
  rotate?(c: CredentialRef, ctx: ActionContext): Promise<{ reference: string }>;
  /** Reads the credential's state back from the provider. */
  isActive(c: CredentialRef): Promise<boolean>;
}

/** What each access provider (postgres roles, in-house systems over HTTP) implements. */
export interface AccessProvider {
  restrict(name: string, ctx: ActionContext): Promise<{ terminated_sessions?: number; response?: unknown }>;
  restore(name: string, ctx: ActionContext): Promise<{ response?: unknown }>;
  /** Attempts or reads the access: true while it still works. */
  canAccess(name: string): Promise<boolean>;
}
