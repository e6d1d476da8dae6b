/**
 * Property (issue 13 §5): over random playbooks (containment, evidence and notify steps, some in
 * parallel groups, each with a random `on_failure` and `require_verified`, optionally ending in a
 * manual task with a short deadline or one a responder aborts without release) and random failure
 * points (scripted ok:false or unverified outcomes), every containment that took effect stays in
 * effect: no undo of a containment action ever runs, the playbook reports it as contained, and an
 * aborted run that holds containment says it needs attention. Runs real incident workflows on the
 * test Temporal server, in drill mode so that the failure points are scripted.
 */
import fc from 'fast-check';
import '../helpers/fuzz-seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isContaining } from '../../domain/action-catalog';
import type { ScriptedOutcome } from '../../domain/actions';
import { abortIncident } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { actionRows, alice, pbState, pinYaml, startIncident } from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const ACTIONS = {
  disable: '{ kind: action, action: agent.disable, params: { agent_id: AGENT } }',
  revoke: '{ kind: action, action: credentials.revoke, params: { agent_id: AGENT, credential_id: k1 } }',
  restrict: "{ kind: action, action: access.restrict, params: { agent_id: AGENT, resource: 'postgres:r1' } }",
  evidence:
    '{ kind: action, action: evidence.collect, params: { agent_id: AGENT, kind: firebreak_timeline } }',
  notify: '{ kind: notify, message: hello }',
} as const;
type ActionKey = keyof typeof ACTIONS;
const RELEASES = new Set(['agent.enable', 'credentials.reactivate', 'access.restore']);

const failure = fc.constantFrom<ScriptedOutcome | undefined>(
  undefined,
  undefined,
  { ok: false, summary: 'injected failure' },
  { ok: true, verified: false, summary: 'injected: not verified' },
);
const leaf = fc.record({
  action: fc.constantFrom<ActionKey>('disable', 'disable', 'revoke', 'restrict', 'evidence', 'notify'),
  agent: fc.constantFrom('a1', 'a2'),
  onFailure: fc.constantFrom('abort', 'continue', 'compensate'),
  verified: fc.boolean(),
  outcome: failure,
});
type Leaf = typeof leaf extends fc.Arbitrary<infer T> ? T : never;
const group = fc.oneof(
  { weight: 3, arbitrary: leaf.map((l) => [l]) },
  { weight: 1, arbitrary: fc.array(leaf, { minLength: 2, maxLength: 3 }) },
);
const scenario = fc.record({
  groups: fc.array(group, { minLength: 1, maxLength: 4 }),
  tail: fc.constantFrom('none', 'deadline', 'human_abort'),
  groupFailure: fc.constantFrom('abort', 'continue'),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function leafYaml(l: Leaf, id: string, indent: string): string {
  const body = ACTIONS[l.action].replace('AGENT', l.agent).slice(2, -2);
  const verified = l.action === 'notify' ? '' : `, require_verified: ${l.verified}`;
  return `${indent}- { id: ${id}, ${body}, on_failure: ${l.onFailure}${verified} }\n`;
}

/** The playbook YAML and the scripted outcome of each step id. */
function build(s: Scenario): { yaml: string; scripted: Record<string, ScriptedOutcome> } {
  const scripted: Record<string, ScriptedOutcome> = {};
  let yaml = 'id: prop\nversion: 1\ntitle: Property\nphases:\n  contain:\n';
  s.groups.forEach((g, gi) => {
    const ids = g.map((_, li) => `s${gi}_${li}`);
    g.forEach((l, li) => {
      if (l.outcome) scripted[ids[li]!] = l.outcome;
    });
    if (g.length === 1) yaml += leafYaml(g[0]!, ids[0]!, '    ');
    else {
      yaml += `    - id: g${gi}\n      kind: parallel\n      on_failure: ${s.groupFailure}\n      steps:\n`;
      g.forEach((l, li) => (yaml += leafYaml(l, ids[li]!, '        ')));
    }
  });
  if (s.tail === 'deadline') yaml += '    - { id: hold, kind: manual_task, task: wait, deadline: 100ms }\n';
  if (s.tail === 'human_abort') yaml += '    - { id: hold, kind: manual_task, task: wait }\n';
  return { yaml, scripted };
}

describe('containment holds after any failure (property)', () => {
  it('no failure, timeout or abort without release undoes a containment', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { yaml, scripted } = build(s);
        const { incidentId, handle } = await startIncident(stack, { playbook: pinYaml(yaml), scripted });
        let abortSent = false;
        const state = await eventually(
          async () => {
            const st = await pbState(handle);
            const holding = st.steps.find((x) => x.id === 'hold')?.status === 'waiting';
            if (holding && s.tail === 'human_abort' && !abortSent) {
              abortSent = true;
              await handle.executeUpdate(abortIncident, {
                args: [
                  signed(handle, 'abort', {
                    decisionId: `abort-${incidentId}`,
                    actor: alice,
                    reason: 'property abort',
                  }),
                ],
              });
              return undefined;
            }
            return st.status !== 'running' ? st : undefined;
          },
          20_000,
          'the playbook to end',
        );
        const rows = actionRows(stack, incidentId);
        // No release action runs: the playbooks have none, so one could only be an undo.
        expect(rows.filter((r) => RELEASES.has(r.action))).toEqual([]);
        // Every containment that took effect is reported as still holding.
        const tookEffect = rows
          .filter((r) => isContaining(r.action) && r.status === 'succeeded')
          .map((r) => r.stepId)
          .sort();
        expect([...state.contained].sort()).toEqual(tookEffect);
        if (state.status === 'aborted' && tookEffect.length > 0) expect(state.needsAttention).toBeDefined();
        if (tookEffect.length > 0 && state.status === 'aborted') {
          const compensated = state.steps.filter((x) => x.status === 'compensated').map((x) => x.id);
          expect(compensated.filter((id) => tookEffect.includes(id))).toEqual([]);
        }
      }),
      { numRuns: 25 },
    );
  });
});
