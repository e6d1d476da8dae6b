/**
 * The scenario linter reports each problem at its line and column: schema errors, steps the
 * playbook does not have, decisions of the wrong kind and undeclared responders.
 */
import { describe, expect, it } from 'vitest';
import { lintDrillSource } from '../../drills/lint';

const base = `id: s
title: t
playbook: agent-config-tampering
alerts:
  - { title: a, agent_id: ops-agent }
responders:
  - { id: U_IC, roles: [incident_commander] }
`;

describe('lintDrillSource', () => {
  it('accepts a valid scenario', () => {
    const r = lintDrillSource(`${base}expectations:\n  - { id: done, type: outcome, outcome: completed }\n`);
    expect(r.problems).toEqual([]);
    expect(r.scenario?.playbook).toBe('agent-config-tampering');
  });

  it('names unknown steps, wrong step kinds and unknown responders with line:col', () => {
    const r = lintDrillSource(`${base}decisions:
  - { step: approve_revok, decision: approve, by: [U_IC] }
  - { step: diff_config, decision: approve, by: [U_NOBODY] }
expectations:
  - { id: x, type: approved_within, step: disable_agent, within: 10m }
`);
    expect(r.problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      '9:13 decisions.0.step: agent-config-tampering has no step approve_revok',
      '10:13 decisions.1.step: diff_config is a manual_task, not approval',
      '10:50 decisions.1.by.0: no responder U_NOBODY',
      '12:43 expectations.0.step: disable_agent is an action, not approval',
    ]);
  });

  it('reports schema errors at the offending field', () => {
    const r = lintDrillSource(
      `${base}expectations:\n  - { id: late, type: event_within, kind: x, within: soon }\n`,
    );
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      line: 9,
      message: expect.stringContaining('expectations.0.within'),
    });
  });
});
