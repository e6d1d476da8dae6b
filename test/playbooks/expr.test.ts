import { describe, expect, it } from 'vitest';
import { evalExpr, ExprError, parseExpr, render } from '../../playbooks/expr';

const scope = {
  incident: { severity: 'critical', agent_id: 'agent-7', count: 3 },
  steps: { revoke: { ok: true, verified: false, output: { key_id: 'AKIA1', list: ['a', 'b'] } } },
};

describe('expression language', () => {
  it('reads paths, compares, combines and tests membership', () => {
    expect(evalExpr("incident.severity == 'critical' && steps.revoke.ok", scope)).toBe(true);
    expect(evalExpr("incident.severity == 'critical' && steps.revoke.verified", scope)).toBe(false);
    expect(evalExpr("!steps.revoke.verified || incident.severity != 'low'", scope)).toBe(true);
    expect(evalExpr("incident.severity in ['critical', 'high']", scope)).toBe(true);
    expect(evalExpr('incident.count >= 3 && incident.count < 4', scope)).toBe(true);
    expect(evalExpr("steps.revoke.output.list[1] == 'b'", scope)).toBe(true);
    expect(evalExpr('(true || false) && !(1 == 2)', scope)).toBe(true);
  });

  it('is null-safe: a missing path is null, never an exception', () => {
    expect(evalExpr('steps.missing.output.x', scope)).toBeUndefined();
    expect(evalExpr('steps.missing.ok == null', scope)).toBe(true);
  });

  it('never reaches beyond plain data (no prototype, no calls)', () => {
    expect(evalExpr('incident.constructor', scope)).toBeUndefined();
    expect(evalExpr("incident['__proto__']", scope)).toBeUndefined();
    expect(() => parseExpr('incident.toString()')).toThrow(ExprError);
    expect(() => parseExpr('process.exit(1)')).toThrow(ExprError);
    expect(() => parseExpr("a = 'b'")).toThrow(ExprError);
  });

  it('renders templates: a whole-template string keeps its type, embedded ones interpolate', () => {
    expect(
      render(
        {
          agent_id: '${{ incident.agent_id }}',
          reason: 'key ${{ steps.revoke.output.key_id }} leaked (${{ incident.severity }})',
          verified: '${{ steps.revoke.verified }}',
          nested: ['${{ incident.count }}', 7],
        },
        scope,
      ),
    ).toEqual({
      agent_id: 'agent-7',
      reason: 'key AKIA1 leaked (critical)',
      verified: false,
      nested: [3, 7],
    });
  });

  it('reports the position of a syntax error', () => {
    try {
      parseExpr("incident.severity == 'x' &&");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ExprError);
      expect((err as ExprError).pos).toBe(27);
    }
  });
});
