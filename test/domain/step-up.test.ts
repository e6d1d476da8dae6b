/**
 * The MFA step-up rule as a pure function: which decisions need it (irreversible actions from the
 * catalog, actions that undo containment, releases; never a rejection) and what an authentication
 * must show (a second factor in `amr`, an `auth_time` inside the window; never the admin token or
 * a config-file token).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STEP_UP_POLICY,
  releasesContainment,
  stepUpProblem,
  stepUpRule,
  type Authentication,
} from '../../domain/step-up';

const now = Date.parse('2026-12-02T03:00:00Z');
const session = (amr: string[], ageMs: number): Authentication => ({
  method: 'session',
  amr,
  authTimeMs: now - ageMs,
});

describe('stepUpRule', () => {
  it('names the irreversible action an approval lets run', () => {
    expect(stepUpRule('approval', 'approve', ['notify', 'credentials.rotate'])).toContain(
      'credentials.rotate (irreversible',
    );
  });
  it('covers every action that undoes a containment action', () => {
    for (const a of ['agent.enable', 'credentials.reactivate', 'access.restore'])
      expect(stepUpRule('approval', 'approve', [a]), a).toContain('releases containment');
    expect(releasesContainment('agent.tools.allow')).toBe(false);
  });
  it('needs nothing for containment itself, for a rejection, or for other kinds', () => {
    expect(stepUpRule('approval', 'approve', ['agent.disable', 'credentials.revoke'])).toBeUndefined();
    expect(stepUpRule('approval', 'reject', ['credentials.rotate'])).toBeUndefined();
    expect(stepUpRule('abort', undefined, [])).toBeUndefined();
    expect(stepUpRule('task', undefined, ['credentials.rotate'])).toBeUndefined();
  });
});

describe('stepUpProblem', () => {
  it('accepts a sign-in with a second factor inside the window', () => {
    expect(stepUpProblem(session(['pwd', 'otp'], 60_000), DEFAULT_STEP_UP_POLICY, now)).toBeUndefined();
    expect(
      stepUpProblem({ ...session(['mfa'], 0), method: 'issued' }, DEFAULT_STEP_UP_POLICY, now),
    ).toBeUndefined();
  });
  it('refuses a password-only sign-in, a stale one, and one without auth_time', () => {
    expect(stepUpProblem(session(['pwd'], 0), DEFAULT_STEP_UP_POLICY, now)).toContain(
      'no second factor (amr: pwd)',
    );
    expect(stepUpProblem(session(['pwd', 'hwk'], 5 * 60_000 + 1), DEFAULT_STEP_UP_POLICY, now)).toContain(
      'more than 5 min ago',
    );
    expect(stepUpProblem({ method: 'session', amr: ['otp'] }, DEFAULT_STEP_UP_POLICY, now)).toContain(
      'no auth_time',
    );
  });
  it('refuses the admin token and config-file tokens whatever they claim', () => {
    expect(
      stepUpProblem({ method: 'admin', amr: ['mfa'], authTimeMs: now }, DEFAULT_STEP_UP_POLICY, now),
    ).toContain('admin token cannot');
    expect(
      stepUpProblem({ method: 'token', amr: ['mfa'], authTimeMs: now }, DEFAULT_STEP_UP_POLICY, now),
    ).toContain('config-file API token cannot');
    expect(stepUpProblem(undefined, DEFAULT_STEP_UP_POLICY, now)).toContain('admin token cannot');
  });
  it('follows the configured window and second-factor values', () => {
    const policy = { windowMs: 60_000, secondFactorAmr: ['hwk'] };
    expect(stepUpProblem(session(['pwd', 'otp'], 0), policy, now)).toContain('no second factor');
    expect(stepUpProblem(session(['pwd', 'hwk'], 61_000), policy, now)).toContain('more than 1 min ago');
  });
});
