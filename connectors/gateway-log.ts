/**
 * The gateway-log evidence source interface: the gateway's own record of the tool calls an agent
 * made or attempted in a window, each with its outcome (refused calls included), and how far that
 * record reaches: a gateway that ships its record in batches (OPA decision logs) may not have
 * sent the newest calls yet, so the evidence says up to when it is complete. An implementation
 * returns the gateway's records as it holds them in `stored`, with the few fields the post-mortem
 * reads.
 */

export interface GatewayToolCall {
  at: string;
  tool: string;
  /** The agent's id for the call (`gen_ai.tool.call.id` in its spans), when the gateway saw one. */
  call_id: string | null;
  /**
   * `allowed` (a policy let it through), `ok` / `error` (the gateway saw its result), or `refused`
   * (the gateway or a policy refused it).
   */
  outcome: 'allowed' | 'ok' | 'error' | 'refused';
  /** The gateway's record, unchanged. */
  stored: unknown;
}

/** How far one part of the gateway's record has reached Firebreak. */
export interface GatewayLogCoverage {
  /** Who sent it, e.g. an OPA decision-log sender and OPA instance. */
  from: string;
  /** The newest decision time received from it: calls after this may not have arrived yet. */
  newest_event_at: string;
  last_upload_at: string;
}

export interface GatewayToolCalls {
  calls: GatewayToolCall[];
  coverage: GatewayLogCoverage[];
}

export interface GatewayLog {
  /** The source id in artifacts and custody, e.g. `opa_decision_logs`. */
  readonly source: string;
  toolCalls(q: { agentId: string; start: Date; end: Date }): Promise<GatewayToolCalls>;
}
