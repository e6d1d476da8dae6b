/**
 * The decision signer of a test file's stacks and directly started incidents (an in-memory key),
 * and `signed(...)`, which signs an update argument the way the API and Slack do, for tests that
 * send decisions straight to Temporal as a responder would through Firebreak.
 */
import { DEFAULT_DECISION_ROLES } from '../../app/config-file';
import { ephemeralDecisionSigner } from '../../app/decision-signer';
import { signDecision, type DecisionKind } from '../../domain/decision-proof';
import type {
  AbortRequest,
  ApprovalDecision,
  AttachPlaybookRequest,
  CloseRequest,
  EscalationRequest,
  NoteRequest,
  ReleaseRequest,
  TaskCompletion,
} from '../../workflows/messages';

/** The update argument of each decision kind. */
interface ArgOf {
  approval: ApprovalDecision;
  task: TaskCompletion;
  abort: AbortRequest;
  release_request: ReleaseRequest;
  attach: AttachPlaybookRequest;
  escalate: EscalationRequest;
  note: NoteRequest;
  close: CloseRequest;
}

export const testDecisions = ephemeralDecisionSigner();

/** What every test incident pins: the test signer's public key and the default decision roles. */
export const testDecisionStart = {
  decisionKey: testDecisions.publicKeyHex,
  deciderRoles: [...DEFAULT_DECISION_ROLES],
};

/** `incident` is an incident id or a workflow handle (`incident-<id>`). */
export function signed<K extends DecisionKind>(
  incident: string | { workflowId: string },
  kind: K,
  arg: Omit<ArgOf[K], 'proof'>,
): ArgOf[K] {
  const id = typeof incident === 'string' ? incident : incident.workflowId.replace(/^incident-/, '');
  return signDecision(testDecisions, id, kind, arg) as ArgOf[K];
}
