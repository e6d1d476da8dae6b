/**
 * The containment gate of an incident whose alert came from outside its source's scope: each
 * containment action, wherever it is nested, runs only inside its own confirmation approval; a
 * containment action already inside an approval, and every other step, is left as it is.
 */
import { describe, expect, it } from 'vitest';
import type { ContainmentConfirmation } from '../../domain/incident';
import type { Step } from '../../domain/playbook';
import { gateContainment } from '../../workflows/containment-gate';
import { indexSteps } from '../../workflows/playbook-model';
import { pinYaml } from '../helpers/playbooks';

const playbook = pinYaml(`
id: gate-me
version: 1
title: Gate me
phases:
  assess:
    - { id: snapshot, kind: action, action: evidence.collect, params: { agent_id: a1, kind: alerts } }
  contain:
    - id: branch
      kind: condition
      if: incident.severity == 'critical'
      steps:
        - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
      else:
        - id: both
          kind: parallel
          steps:
            - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1 } }
            - { id: confirm_restrict, kind: notify, message: an id the gate must not reuse }
            - { id: restrict, kind: action, when: "incident.severity == 'high'", action: access.restrict, params: { agent_id: a1, resource: 'postgres:a1' } }
    - id: approve_disable
      kind: approval
      prompt: Disable?
      approvers: { roles: [incident_commander] }
      steps:
        - { id: disable_approved, kind: action, action: agent.disable, params: { agent_id: a1 } }
`);

const confirmation: ContainmentConfirmation = {
  reasons: ['out_of_scope'],
  message: 'Source siem may raise alerts about teams payments, not agent a1',
  approvers: { users: [], groups: [], roles: ['incident_commander'] },
};

describe('gateContainment', () => {
  it('leaves the playbook as pinned without a confirmation', () => {
    expect(gateContainment(playbook, undefined)).toBe(playbook);
  });

  it('wraps every containment action outside an approval in its own confirmation', () => {
    const gated = gateContainment(playbook, confirmation);
    expect({ id: gated.id, version: gated.version, hash: gated.hash }).toEqual({
      id: playbook.id,
      version: playbook.version,
      hash: playbook.hash,
    });
    const index = indexSteps(gated.definition);
    const parentOf = (id: string) =>
      [...index.values()].find(
        ({ step }) => 'steps' in step && (step.steps as Step[] | undefined)?.some((s) => s.id === id),
      )?.step.id;
    expect(parentOf('disable')).toBe('confirm_disable');
    expect(parentOf('revoke')).toBe('confirm_revoke');
    expect(parentOf('restrict')).toBe('confirm_restrict_2');
    expect(parentOf('disable_approved')).toBe('approve_disable');
    expect(parentOf('snapshot')).toBeUndefined();
    const confirm = index.get('confirm_restrict_2')!.step;
    expect(confirm).toMatchObject({
      kind: 'approval',
      when: "incident.severity == 'high'",
      approvers: confirmation.approvers,
      on_reject: 'continue',
    });
    expect((confirm as { prompt: string }).prompt).toContain(confirmation.message);
    expect(index.has('confirm_disable_approved')).toBe(false);
  });
});
