/**
 * The gateway record from OPA decision logs: every decision an OPA in front of the agent's tools
 * made about one of its tool calls (examples/gateways/opa-mcp-proxy asks for each `tools/call`),
 * as the OPA uploaded it to Firebreak (api/routes/opa-decision-logs.ts, stored by
 * db/opa-decision-logs.ts). Allowed and refused calls alike, the refusals after containment
 * included. OPA uploads in batches, so the answer also says, per OPA, the newest decision time it
 * has delivered: the record is complete up to there. A query first waits (up to `waitForUploadMs`)
 * for every OPA that uploads here to have delivered a decision at or after the window's end, so a
 * collection right after containment still holds the calls refused by then; OPA's own checks by
 * Firebreak's verification are decisions too, so an upload past that point comes.
 */
import type { Db } from '../db/client';
import { decisionEventsOf, decisionLogSenders } from '../db/opa-decision-logs';
import { opaTimeOf } from '../domain/opa-decision-log';
import type { GatewayLog } from './gateway-log';

export const OPA_DECISION_LOG_SOURCE = 'opa_decision_logs';

export function opaDecisionLog(
  db: Db,
  senders: string[],
  opts: { waitForUploadMs?: number; pollMs?: number } = {},
): GatewayLog {
  const known = new Set(senders);
  const { waitForUploadMs = 10_000, pollMs = 250 } = opts;
  /**
   * How far each known OPA's record reaches, read until every one has delivered past `end` or
   * the wait is over. It is read before the calls: an upload committed in between can only add
   * calls beyond it, so the coverage stated is never later than what was read.
   */
  const settledProgress = async (end: Date) => {
    const until = Date.now() + waitForUploadMs;
    for (;;) {
      const progress = (await decisionLogSenders(db)).filter((p) => known.has(p.sender));
      const behind = progress.some((p) => Date.parse(p.newestAt) < end.getTime());
      if (!behind || Date.now() >= until) return progress;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  return {
    source: OPA_DECISION_LOG_SOURCE,
    async toolCalls(q) {
      const progress = await settledProgress(q.end);
      const rows = await decisionEventsOf(db, {
        agentId: q.agentId,
        start: opaTimeOf(q.start),
        end: opaTimeOf(q.end, 'end'),
      });
      return {
        calls: rows
          .filter((r) => known.has(r.sender))
          .map((r) => ({
            at: r.at,
            tool: r.tool,
            call_id: r.callId,
            outcome: r.outcome,
            stored: JSON.parse(r.event) as unknown,
          })),
        coverage: progress.map((p) => ({
          from: `${p.sender}${p.opaId ? ` (OPA ${p.opaId})` : ''}`,
          newest_event_at: p.newestAt,
          last_upload_at: p.lastUploadAt,
        })),
      };
    },
  };
}
