/**
 * Reading OPA decision events: OPA's nanosecond timestamps normalized so that they compare as
 * text, which events are a gateway's tool-call decisions and their outcome (fail closed), and the
 * gateway calls in "What the agent did" (call id, first refused call, time order below the
 * millisecond).
 */
import { describe, expect, it } from 'vitest';
import { agentActivity } from '../../domain/agent-activity';
import {
  normalizeOpaTime,
  OpaDecisionEvent,
  opaTimeOf,
  toolCallDecision,
} from '../../domain/opa-decision-log';

const event = (input: unknown, result: unknown, extra: Record<string, unknown> = {}) =>
  OpaDecisionEvent.parse({ decision_id: 'd', timestamp: '2026-12-02T05:56:03Z', input, result, ...extra });
const call = { agent_id: 'a', tool: 'lookup', tool_call: { id: 'c-1', arguments_sha256: null } };

describe('OPA decision events', () => {
  it('normalizes RFC 3339 times to UTC with nine fractional digits', () => {
    expect(normalizeOpaTime('2026-12-02T05:56:03.63381Z')).toBe('2026-12-02T05:56:03.633810000Z');
    expect(normalizeOpaTime('2026-12-02T05:56:03Z')).toBe('2026-12-02T05:56:03.000000000Z');
    expect(normalizeOpaTime('2026-12-02T07:56:03.123456789+02:00')).toBe('2026-12-02T05:56:03.123456789Z');
    for (const bad of ['yesterday', '2026-12-02 05:56:03Z', '2026-13-02T05:56:03Z', '2026-12-02T05:56:03'])
      expect(normalizeOpaTime(bad), bad).toBeUndefined();
    // Text order is time order, and window bounds cover their whole millisecond.
    const d = new Date('2026-12-02T05:56:03.633Z');
    expect(opaTimeOf(d) <= normalizeOpaTime('2026-12-02T05:56:03.633000001Z')!).toBe(true);
    expect(normalizeOpaTime('2026-12-02T05:56:03.633999999Z')! <= opaTimeOf(d, 'end')).toBe(true);
    expect(normalizeOpaTime('2026-12-02T05:56:03.634Z')! > opaTimeOf(d, 'end')).toBe(true);
  });

  it('reads a tool-call decision only from an input naming agent, tool and call', () => {
    expect(toolCallDecision(event(call, { allow: true, reasons: [] }))).toEqual({
      agentId: 'a',
      tool: 'lookup',
      callId: 'c-1',
      outcome: 'allowed',
      reasons: [],
    });
    // Firebreak's own verification query and a data read are not tool calls.
    expect(toolCallDecision(event({ agent_id: 'a', tool: 'lookup' }, { allow: true }))).toBeUndefined();
    expect(toolCallDecision(event(undefined, { agents: {} }))).toBeUndefined();
    expect(toolCallDecision(event({ ...call, tool: 7 }, { allow: true }))).toBeUndefined();
  });

  it('is allowed only on allow: true (or a boolean true result); anything else refused', () => {
    const outcome = (result: unknown, extra = {}) => toolCallDecision(event(call, result, extra))?.outcome;
    expect(outcome(true)).toBe('allowed');
    expect(outcome({ allow: false, reasons: ['agent disabled'] })).toBe('refused');
    expect(toolCallDecision(event(call, { allow: false, reasons: ['agent disabled', 3] }))?.reasons).toEqual([
      'agent disabled',
    ]);
    expect(outcome(undefined)).toBe('refused');
    expect(outcome({ allow: 'true' })).toBe('refused');
    expect(outcome({ allow: true }, { error: { code: 'eval_error' } })).toBe('refused');
  });

  it('lists gateway calls with their call id, in time order, with the first refused call', () => {
    const doc = {
      sources: {
        opa_decision_logs: {
          tool_calls: [
            { at: '2026-12-02T05:56:03.633810096Z', tool: 'query', call_id: 'c-2', outcome: 'refused' },
            { at: '2026-12-02T05:56:01.000000001Z', tool: 'lookup', call_id: 'c-1', outcome: 'allowed' },
            { at: '2026-12-02T05:56:04.5Z', tool: 'query', call_id: null, outcome: 'refused' },
          ],
        },
      },
    };
    const entries = agentActivity([{ sha256: 'ab'.repeat(32), kind: 'gateway_tool_calls', doc }], {
      alertAt: '2026-12-02T05:56:02Z',
      containedAt: '2026-12-02T05:56:03Z',
    });
    expect(entries.map((e) => [e.what, e.detail, e.outcome])).toEqual([
      ['gateway_call', 'lookup (call c-1)', 'allowed'],
      ['alert', 'First alert received; incident opened', null],
      ['containment', 'Contained (milestone)', null],
      ['gateway_call', 'query (call c-2)', 'refused'],
      ['first_refused_call', 'First refused call: query (call c-2)', null],
      ['gateway_call', 'query', 'refused'],
    ]);
  });
});
