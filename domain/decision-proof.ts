/**
 * The signed form of a responder's decision. The API and the Slack receiver resolve who acts
 * (person, roles, groups) on the server side, then sign the decision with Firebreak's `decision`
 * Ed25519 key (app/decision-signer.ts); the incident workflow verifies the signature against the
 * public key pinned into its input at start (workflows/decision-proof.ts) and refuses anything
 * unsigned, badly signed or stale. The signed bytes are `decisionMessage(...)`: every field that
 * decides what the update does, in a fixed order, so no field can change without breaking it.
 */
import type { Actor, DecisionProof, PinnedPlaybook } from './incident';

export type { DecisionProof } from './incident';

/**
 * What a decision is: which update it drives. An `abort` never undoes containment: only the
 * k-of-n approval of a release does, and `release_request` (signed as its own kind) only opens
 * that approval; `attach` attaches a playbook to a running incident.
 */
export type DecisionKind =
  'approval' | 'task' | 'abort' | 'release_request' | 'attach' | 'escalate' | 'note' | 'close';

/**
 * What an `attach` decision's signature covers of the playbook it attaches: id, version, source
 * hash and the whole definition, so a signed attach cannot carry another definition.
 */
export function playbookClaim(p: PinnedPlaybook): string {
  return JSON.stringify(['firebreak-playbook-v1', p.id, p.version, p.hash, p.definition]);
}

/** How far a signed decision's `at` may be from the workflow's clock (either way). */
export const DECISION_MAX_SKEW_MS = 5 * 60_000;

/** Everything a signature covers. */
export interface DecisionClaims {
  incidentId: string;
  kind: DecisionKind;
  decisionId: string;
  actor: Actor;
  at: string;
  stepId?: string;
  decision?: 'approve' | 'reject';
  /** The free text of the decision: reason, note or note text. */
  text?: string;
  target?: string;
}

const sorted = (xs: string[] | undefined) => [...(xs ?? [])].sort();

/** The exact string that is signed and verified (UTF-8): a JSON array in a fixed order. */
export function decisionMessage(c: DecisionClaims): string {
  return JSON.stringify([
    'firebreak-decision-v1',
    c.incidentId,
    c.kind,
    c.decisionId,
    c.stepId ?? null,
    c.decision ?? null,
    c.actor.id,
    c.actor.person ?? c.actor.id,
    sorted(c.actor.ids),
    sorted(c.actor.roles),
    sorted(c.actor.groups),
    c.actor.via,
    c.text ?? null,
    c.target ?? null,
    c.at,
  ]);
}

/** Signs a decision message; app/ builds it from the `decision` key and hands it down. */
export interface DecisionSigner {
  /** The raw 32-byte Ed25519 public key, hex: pinned into each incident workflow at start. */
  publicKeyHex: string;
  /** Signs `decisionMessage(claims)` and returns the proof to attach to the update. */
  sign(claims: Omit<DecisionClaims, 'at'>): DecisionProof;
}

/** A decision update's argument as callers build it, before it is signed. */
export interface UnsignedDecision {
  decisionId: string;
  actor: Actor;
  stepId?: string;
  decision?: 'approve' | 'reject';
  reason?: string;
  note?: string;
  text?: string;
  target?: string;
  /** The playbook an `attach` decision attaches (signed as `playbookClaim`, in `target`). */
  playbook?: PinnedPlaybook;
}

/**
 * Signs an update's argument as the workflow will check it: its free text is the one of `reason`,
 * `note` or `text` the update has.
 */
export function signDecision<A extends UnsignedDecision>(
  signer: DecisionSigner,
  incidentId: string,
  kind: DecisionKind,
  arg: A,
): A & { proof: DecisionProof } {
  const proof = signer.sign({
    incidentId,
    kind,
    decisionId: arg.decisionId,
    actor: arg.actor,
    ...(arg.stepId !== undefined ? { stepId: arg.stepId } : {}),
    ...(arg.decision !== undefined ? { decision: arg.decision } : {}),
    ...((arg.reason ?? arg.note ?? arg.text) !== undefined
      ? { text: arg.reason ?? arg.note ?? arg.text }
      : {}),
    ...(arg.target !== undefined ? { target: arg.target } : {}),
    ...(arg.playbook !== undefined ? { target: playbookClaim(arg.playbook) } : {}),
  });
  return { ...arg, proof };
}
