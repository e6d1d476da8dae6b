/**
 * Verifies a decision's signature inside the workflow, with @noble/curves' pure-JS Ed25519 (no
 * Node crypto in the workflow sandbox), against the decision public key pinned into the
 * incident's input at start. Anyone who can send an update to Temporal can write any actor into
 * it; only Firebreak's API and Slack receiver hold the private key, so only what they signed
 * counts. Pure: the answer depends on the payload, the pinned key and the workflow clock.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/curves/utils.js';
import { DECISION_MAX_SKEW_MS, decisionMessage, type DecisionClaims } from '../domain/decision-proof';
import type { DecisionProof } from '../domain/incident';

const HEX = /^[0-9a-f]+$/i;

/** Why a proof does not hold, or undefined when it does. */
export function proofProblem(
  publicKeyHex: string | undefined,
  claims: Omit<DecisionClaims, 'at'>,
  proof: DecisionProof | undefined,
  nowMs: number,
): string | undefined {
  if (!publicKeyHex) return 'this incident was started without a decision key: no decision can be verified';
  if (!proof || typeof proof.signature !== 'string' || typeof proof.at !== 'string')
    return 'the decision is not signed by Firebreak';
  const at = Date.parse(proof.at);
  if (!Number.isFinite(at)) return 'the decision carries no valid signing time';
  if (Math.abs(nowMs - at) > DECISION_MAX_SKEW_MS)
    return `the decision was signed at ${proof.at}, more than ${DECISION_MAX_SKEW_MS / 60_000} minutes from now: stale`;
  if (proof.signature.length !== 128 || !HEX.test(proof.signature))
    return 'the decision signature is malformed';
  const message = new TextEncoder().encode(decisionMessage({ ...claims, at: proof.at }));
  const verifies = () => {
    try {
      return ed25519.verify(hexToBytes(proof.signature), message, hexToBytes(publicKeyHex));
    } catch {
      return false;
    }
  };
  return verifies() ? undefined : 'the decision signature does not verify: it was not signed by Firebreak';
}
