/**
 * An enforcement point of the kill switch: a system outside Firebreak (an OPA server that gateways
 * ask before a tool call, an MCP gateway) that holds a copy of each agent's kill-switch state and
 * enforces it. The kill switch (connectors/kill-switch.ts) applies every change to each configured
 * point after storing it, and its verification asks each one, from outside, whether the change
 * holds there: a point that cannot be reached, answers otherwise, or holds an older version than
 * the change fails the verification.
 */
import type { AgentRow } from '../db/agents';

/** The state a point is given: the agent's row as stored, after the change. */
export interface AgentKillSwitchState {
  agent_id: string;
  status: AgentRow['status'];
  blocked_tools: string[];
  version: number;
  incident: string | null;
}

export function killSwitchStateOf(a: AgentRow): AgentKillSwitchState {
  return {
    agent_id: a.id,
    status: a.status,
    blocked_tools: a.blockedTools,
    version: a.statusVersion,
    incident: a.statusIncident,
  };
}

/** What verification expects the point to enforce, from `minVersion` on. */
export type Expectation =
  | { agentId: string; minVersion: number; status: AgentRow['status'] }
  | { agentId: string; minVersion: number; tools: string[]; blocked: boolean };

export interface EnforcementPoint {
  /** For summaries and audit details, e.g. `opa http://opa:8181`. */
  name: string;
  /** Makes the point hold `state`; a repeat of the same state changes nothing. Throws on failure. */
  apply(state: AgentKillSwitchState): Promise<{ changed: boolean }>;
  /** Asks the point as an enforcer would and says whether the expectation holds there. */
  check(want: Expectation): Promise<{ ok: boolean; detail: string }>;
}
