import { describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/incident';
import {
  validateActorAction,
  validateApproval,
  validateTask,
  type Decisions,
} from '../../workflows/decisions';
import { indexSteps, newRun, type PlaybookRun } from '../../workflows/playbook-model';
import { pinYaml } from '../helpers/playbooks';

const pb = pinYaml(`
id: validators
version: 1
title: Validators
phases:
  contain:
    - id: gate
      kind: approval
      prompt: ok?
      approvers: { users: [U_A], groups: [S0LEADS], roles: [ic] }
      min_approvals: 2
    - { id: task, kind: manual_task, task: do it }
`);
const index = indexSteps(pb.definition);
const T0 = Date.parse('2026-01-01T00:00:00Z');
const a: Actor = { id: 'U_A', via: 'slack' };

function run(): PlaybookRun {
  const r = newRun();
  r.steps.gate = {
    id: 'gate',
    kind: 'approval',
    phase: 'contain',
    status: 'waiting',
    requester: 'U_REQ',
    deadline: new Date(T0 + 60_000).toISOString(),
    approvals: [],
  };
  r.steps.task = { id: 'task', kind: 'manual_task', phase: 'contain', status: 'waiting' };
  return r;
}

const approve = (actor: Actor, decisionId = 'd1', stepId = 'gate') => ({
  decisionId,
  stepId,
  decision: 'approve' as const,
  actor,
});

describe('decision validators', () => {
  it('accept a listed user, a group member or a role holder before the deadline', () => {
    for (const actor of [
      a,
      { id: 'U_G', via: 'api', groups: ['S0LEADS'] },
      { id: 'U_R', via: 'cli', roles: ['ic'] },
    ]) {
      expect(() => validateApproval(run(), index, approve(actor as Actor), T0, {})).not.toThrow();
    }
  });

  it('reject a decision after the deadline', () => {
    expect(() => validateApproval(run(), index, approve(a), T0 + 60_001, {})).toThrow(
      /deadline of gate passed/,
    );
  });

  it('reject the requester approving (two-person rule; withdrawing is fine), strangers, repeat approvers and unknown or wrong steps', () => {
    const r = run();
    expect(() =>
      validateApproval(r, index, approve({ id: 'U_REQ', via: 'api', roles: ['ic'] }), T0, {}),
    ).toThrow(/two-person rule/);
    expect(() => validateApproval(r, index, approve({ id: 'U_X', via: 'api' }), T0, {})).toThrow(
      /not an approver/,
    );
    const withdraw = { ...approve({ id: 'U_REQ', via: 'api', roles: ['ic'] }), decision: 'reject' as const };
    expect(() => validateApproval(r, index, withdraw, T0, {})).not.toThrow();
    r.steps.gate!.approvals = [{ decisionId: 'd0', actorId: 'U_A', decision: 'approve', at: '' }];
    expect(() => validateApproval(r, index, approve(a), T0, {})).toThrow(/already decided/);
    expect(() => validateApproval(r, index, approve(a, 'd1', 'nope'), T0, {})).toThrow(/unknown step nope/);
    expect(() => validateApproval(r, index, approve(a, 'd1', 'task'), T0, {})).toThrow(/is a manual_task/);
    expect(() => validateApproval(r, index, { ...approve(a), decisionId: '' }, T0, {})).toThrow(/decisionId/);
  });

  it('let a repeated decisionId through, so the handler can return the first result', () => {
    const r = run();
    r.steps.gate!.status = 'succeeded';
    const seen: Decisions = { d1: { decisionId: 'd1', duplicate: false, stepId: 'gate' } };
    expect(() => validateApproval(r, index, approve(a), T0 + 10 ** 9, seen)).not.toThrow();
    expect(() => validateApproval(r, index, approve(a, 'd2'), T0, seen)).toThrow(/not waiting/);
  });

  it('check task completions and playbook-wide requests', () => {
    expect(() =>
      validateTask(run(), index, { decisionId: 't', stepId: 'task', actor: a }, T0, {}),
    ).not.toThrow();
    expect(() => validateTask(run(), index, { decisionId: 't', stepId: 'gate', actor: a }, T0, {})).toThrow(
      /not a manual_task/,
    );
    expect(() =>
      validateTask(undefined, index, { decisionId: 't', stepId: 'task', actor: a }, T0, {}),
    ).toThrow(/no playbook/);
    const done = run();
    done.status = 'completed';
    expect(() => validateActorAction(done, { decisionId: 'x', actor: a }, true, {})).toThrow(
      /no playbook is running/,
    );
    expect(() => validateActorAction(done, { decisionId: 'x', actor: a }, false, {})).not.toThrow();
    expect(() =>
      validateActorAction(done, { decisionId: 'x', actor: { id: 'U', via: 'email' as 'api' } }, false, {}),
    ).toThrow(/actor.via/);
  });
});
