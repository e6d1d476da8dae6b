import { describe, expect, it } from 'vitest';
import { ephemeralDecisionSigner } from '../../app/decision-signer';
import { signDecision, type DecisionKind, type UnsignedDecision } from '../../domain/decision-proof';
import type { Actor, IncidentStart } from '../../domain/incident';
import {
  checkApproval,
  checkIncidentDecision,
  checkTask,
  decisionKey,
  type Decisions,
  type DecisionScope,
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
    - { id: owned, kind: manual_task, task: do it too, assignee: U_OWNER }
`);
const index = indexSteps(pb.definition);
const T0 = Date.parse('2026-01-01T00:00:00Z');
const signer = ephemeralDecisionSigner(() => new Date(T0));
const a: Actor = { id: 'U_A', via: 'slack' };

const input: IncidentStart = {
  incidentId: 'inc-1',
  key: 'k',
  mode: 'live',
  source: 'test',
  title: 't',
  severity: 'high',
  agentId: 'agent-7',
  openedAt: new Date(T0).toISOString(),
  playbook: pb,
  decisionKey: signer.publicKeyHex,
  deciderRoles: ['release'],
};

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
  r.steps.owned = { id: 'owned', kind: 'manual_task', phase: 'contain', status: 'waiting' };
  return r;
}

function scope(r: PlaybookRun | undefined = run(), nowMs = T0, decisions: Decisions = {}): DecisionScope {
  return { input, run: r, index, nowMs, decisions };
}

const sign = <A extends UnsignedDecision>(kind: DecisionKind, arg: A) =>
  signDecision(signer, input.incidentId, kind, arg);

const approve = (actor: Actor, decisionId = 'd1', stepId = 'gate') =>
  sign('approval', { decisionId, stepId, decision: 'approve' as const, actor });

describe('decision checks', () => {
  it('accept a listed user, a group member or a role holder before the deadline', () => {
    for (const actor of [
      a,
      { id: 'U_G', via: 'api', groups: ['S0LEADS'] },
      { id: 'U_R', via: 'cli', roles: ['ic'] },
    ] satisfies Actor[]) {
      expect(checkApproval(scope(), approve(actor))).toBeUndefined();
    }
  });

  it('refuse an unsigned, forged, altered or stale decision as Unauthorized and unverified', () => {
    const good = approve({ id: 'U_X', via: 'api' });
    const { proof, ...unsigned } = good;
    const cases = [
      { ...unsigned } as typeof good,
      { ...good, actor: { id: 'U_A', via: 'slack' as const } },
      { ...good, proof: { ...proof, signature: '00'.repeat(64) } },
      { ...good, decision: 'reject' as const },
    ];
    for (const d of cases)
      expect(checkApproval(scope(), d)).toMatchObject({ type: 'Unauthorized', unverified: true });
    expect(checkApproval(scope(run(), T0 + 6 * 60_000), approve(a))).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(/stale/),
    });
    const forgedSigner = ephemeralDecisionSigner(() => new Date(T0));
    const other = signDecision(forgedSigner, 'inc-1', 'approval', unsigned);
    expect(checkApproval(scope(), other)).toMatchObject({
      message: expect.stringMatching(/does not verify/),
    });
    expect(
      checkApproval({ ...scope(), input: { ...input, decisionKey: undefined } }, approve(a)),
    ).toMatchObject({
      message: expect.stringMatching(/without a decision key/),
    });
  });

  it('refuse a decision after the deadline', () => {
    expect(checkApproval(scope(run(), T0 + 60_001), approve(a))).toMatchObject({
      type: 'Expired',
      message: expect.stringMatching(/deadline of gate passed/),
    });
  });

  it('refuse the requester approving (two-person rule; withdrawing is fine), strangers, repeat approvers and unknown or wrong steps', () => {
    const r = run();
    const req: Actor = { id: 'U_REQ', via: 'api', roles: ['ic'] };
    expect(checkApproval(scope(r), approve(req))).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(/two-person rule/),
    });
    expect(checkApproval(scope(r), approve({ id: 'U_X', via: 'api' }))).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(/not an approver/),
    });
    const withdraw = sign('approval', {
      decisionId: 'w',
      stepId: 'gate',
      decision: 'reject' as const,
      actor: req,
    });
    expect(checkApproval(scope(r), withdraw)).toBeUndefined();
    r.steps.gate!.approvals = [
      { decisionId: 'd0', actorId: 'U_A', person: 'alice', decision: 'approve', at: '' },
    ];
    expect(checkApproval(scope(r), approve(a))).toMatchObject({ type: 'AlreadyDecided' });
    expect(checkApproval(scope(r), approve(a, 'd1', 'nope'))).toMatchObject({ message: 'unknown step nope' });
    expect(checkApproval(scope(r), approve(a, 'd1', 'task'))).toMatchObject({
      message: expect.stringMatching(/is a manual_task/),
    });
    expect(checkApproval(scope(r), { ...approve(a), decisionId: '' })).toMatchObject({
      message: expect.stringMatching(/decisionId/),
    });
  });

  it('count people, not ids: a second id of the same person cannot be the second approver', () => {
    const r = run();
    r.steps.gate!.approvals = [
      { decisionId: 'd0', actorId: 'U_A', person: 'alice', decision: 'approve', at: '' },
    ];
    const aliceViaApi: Actor = { id: 'alice', person: 'alice', ids: ['alice'], roles: ['ic'], via: 'api' };
    expect(checkApproval(scope(r), approve(aliceViaApi, 'd2'))).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(/two-person rule: alice is alice, who already decided on gate as U_A/),
    });
    // The requester's other id is the requester too.
    const reqLinked: Actor = {
      id: 'U_REQ2',
      person: 'req',
      ids: ['req', 'U_REQ'],
      roles: ['ic'],
      via: 'slack',
    };
    expect(checkApproval(scope(run()), approve(reqLinked))).toMatchObject({
      message: expect.stringMatching(/two-person rule: U_REQ2 requested gate/),
    });
  });

  it('scope decision ids to kind, step and person: only the same person repeating one is a duplicate', () => {
    const r = run();
    r.steps.gate!.status = 'succeeded';
    const note = sign('note', { decisionId: 'pre-claimed', actor: { id: 'U_M', via: 'api' }, text: 'x' });
    const seen: Decisions = {
      [decisionKey('approval', 'gate', approve(a))]: { decisionId: 'd1', duplicate: false, stepId: 'gate' },
      [decisionKey('note', undefined, note)]: { decisionId: 'pre-claimed', duplicate: false },
    };
    expect(checkApproval(scope(r, T0, seen), approve(a))).toBeUndefined();
    expect(checkApproval(scope(r, T0, seen), approve(a, 'd2'))).toMatchObject({
      message: expect.stringMatching(/not waiting/),
    });
    // Another person's approval with the id a note pre-claimed is checked, not a duplicate.
    expect(
      checkApproval(
        scope(r, T0, seen),
        approve({ id: 'U_G', via: 'api', groups: ['S0LEADS'] }, 'pre-claimed'),
      ),
    ).toMatchObject({
      message: expect.stringMatching(/not waiting/),
    });
  });

  it('authorize task completion and abort by approvers, the assignee or a configured role on live incidents', () => {
    const task = (actor: Actor, stepId = 'task') => sign('task', { decisionId: 't', stepId, actor });
    expect(checkTask(scope(), task(a))).toBeUndefined();
    expect(checkTask(scope(), task({ id: 'U_REL', via: 'api', roles: ['release'] }))).toBeUndefined();
    expect(checkTask(scope(), task({ id: 'U_OWNER', via: 'slack' }, 'owned'))).toBeUndefined();
    expect(checkTask(scope(), task({ id: 'U_OWNER', via: 'slack' }))).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(
        /U_OWNER may not complete task: only the playbook's approvers or a person with the role release may/,
      ),
    });
    expect(
      checkTask({ ...scope(), input: { ...input, mode: 'drill' } }, task({ id: 'U_X', via: 'api' })),
    ).toBeUndefined();
    expect(checkTask(scope(), task(a, 'gate'))).toMatchObject({
      message: expect.stringMatching(/not a manual_task/),
    });
    expect(checkTask({ ...scope(), run: undefined }, task(a))).toMatchObject({
      message: expect.stringMatching(/no playbook/),
    });

    const abort = (actor: Actor) => sign('abort', { decisionId: 'x', actor, reason: 'stop' });
    const opts = { authorized: true, needsRunning: true };
    expect(
      checkIncidentDecision(scope(), 'abort', abort({ id: 'U_X', via: 'api' }), { text: 'stop' }, opts),
    ).toMatchObject({
      type: 'Unauthorized',
      message: expect.stringMatching(/U_X may not abort this incident/),
    });
    expect(checkIncidentDecision(scope(), 'abort', abort(a), { text: 'stop' }, opts)).toBeUndefined();
    const done = run();
    done.status = 'completed';
    expect(checkIncidentDecision(scope(done), 'abort', abort(a), { text: 'stop' }, opts)).toMatchObject({
      message: expect.stringMatching(/no playbook is running/),
    });
    const odd = sign('note', { decisionId: 'n', actor: { id: 'U', via: 'email' as 'api' }, text: 'x' });
    expect(
      checkIncidentDecision(
        scope(done),
        'note',
        odd,
        { text: 'x' },
        { authorized: false, needsRunning: false },
      ),
    ).toMatchObject({ message: expect.stringMatching(/actor.via/) });
  });
});
