/**
 * The decision signer: Firebreak's `decision` Ed25519 key (app/keys.ts) behind the DecisionSigner
 * interface the API, the Slack receiver and drills are given. Only app/ and cli/ load keys; the
 * rest receive this object, and the incident workflows receive only its public key.
 */
import crypto from 'node:crypto';
import { decisionMessage, type DecisionSigner } from '../domain/decision-proof';
import { loadOrCreateSigningKey, sign, signingKeyFrom, type SigningKey } from './keys';

export function decisionSigner(key: SigningKey, now: () => Date = () => new Date()): DecisionSigner {
  return {
    publicKeyHex: key.publicKeyRaw.toString('hex'),
    sign(claims) {
      const at = now().toISOString();
      return { at, signature: sign(key, decisionMessage({ ...claims, at })).toString('hex') };
    },
  };
}

export function loadDecisionSigner(keyDir: string): DecisionSigner {
  return decisionSigner(loadOrCreateSigningKey(keyDir, 'decision'));
}

/** A signer with a fresh in-memory key: history recording and test stacks, never a service. */
export function ephemeralDecisionSigner(now?: () => Date): DecisionSigner {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return decisionSigner(signingKeyFrom('decision', '(memory)', privateKey), now);
}
