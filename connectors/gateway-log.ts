/**
 * The gateway-log evidence source interface: the MCP gateway's own record of the tool calls an
 * agent made or attempted in a window, each with its outcome (refused calls included). An
 * implementation returns the gateway's records as it holds them in `stored`, with the few fields
 * the post-mortem reads.
 */

export interface GatewayToolCall {
  at: string;
  tool: string;
  /** `ok`, `error`, or `refused` (the gateway or a policy refused it). */
  outcome: 'ok' | 'error' | 'refused';
  /** The gateway's record, unchanged. */
  stored: unknown;
}

export interface GatewayLog {
  /** The source id in artifacts and custody, e.g. `contextforge:http://127.0.0.1:4444`. */
  readonly source: string;
  toolCalls(q: { agentId: string; start: Date; end: Date }): Promise<GatewayToolCall[]>;
}
