/**
 * Lint rules about single steps that need the action catalog or the approval settings: catalog
 * names and params (templated values are opaque), the approval gate in front of irreversible
 * actions, and approvals that nobody could grant or that cannot escalate.
 */
import type { z } from 'zod';
import { isActionName, undoOf } from '../domain/action-catalog';
import { ACTIONS } from '../domain/actions';
import type { Step } from '../domain/playbook';
import { isTemplated } from './expr';
import type { Path } from './locate';
import { childLists } from './step-tree';

export type Add = (path: Path, message: string, opts?: { key?: string; offset?: number }) => void;

export function checkAction(add: Add, name: string, params: Record<string, unknown>, path: Path): void {
  if (!isActionName(name)) {
    add([...path, 'action'], `unknown action ${name} (known: ${Object.keys(ACTIONS).join(', ')})`);
    return;
  }
  const shape = (ACTIONS[name].input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(params)) {
    const field = shape[key];
    if (!field) {
      add([...path, 'params'], `unknown param ${key} for ${name} (known: ${Object.keys(shape).join(', ')})`, {
        key,
      });
      continue;
    }
    if (isTemplated(value)) continue;
    const r = field.safeParse(value);
    if (!r.success)
      add([...path, 'params', key], `invalid param ${key} for ${name}: ${r.error.issues[0]?.message}`);
  }
  for (const [key, field] of Object.entries(shape)) {
    if (!Object.hasOwn(params, key) && !field.safeParse(undefined).success) {
      add([...path, 'action'], `missing required param ${key} for ${name}`);
    }
  }
}

/** An action that changes something and has no undo may only run once a person approved it. */
export function checkGate(add: Add, name: string, path: Path, gated: boolean): void {
  if (!isActionName(name) || gated) return;
  if (ACTIONS[name].mutates && !undoOf(name)) {
    add([...path, 'action'], `irreversible action ${name} must be gated: put it in an approval's steps`);
  }
}

export function checkApproval(add: Add, step: Extract<Step, { kind: 'approval' }>, path: Path): void {
  const a = step.approvers;
  if (a.users.length + a.groups.length + a.roles.length === 0) {
    add([...path, 'approvers'], `approval ${step.id} has no approvers (name users, groups or roles)`);
  } else if (a.groups.length + a.roles.length === 0 && new Set(a.users).size < step.min_approvals) {
    add(
      [...path, 'min_approvals'],
      `approval ${step.id} needs ${step.min_approvals} approvals but names only ${new Set(a.users).size} approvers`,
    );
  }
  if (step.on_timeout === 'escalate' && !step.escalation) {
    add(
      [...path, 'on_timeout'],
      `approval ${step.id} escalates on timeout but has no escalation (target, timeout)`,
    );
  }
  if (step.on_timeout !== 'escalate' && step.escalation) {
    add(
      [...path, 'escalation'],
      `approval ${step.id} has an escalation but on_timeout is ${step.on_timeout}`,
    );
  }
}

/**
 * A step that runs in the background (`wait: false`) races with whatever follows it, containment
 * included: it may only hold actions that change nothing (evidence.collect, notify).
 */
export function checkBackground(add: Add, step: Step, path: Path): void {
  if (!('wait' in step) || step.wait !== false || step.kind === 'notify') return;
  const walk = (s: Step, p: Path) => {
    if (s.kind === 'action' && isActionName(s.action) && ACTIONS[s.action].mutates)
      add(
        [...p, 'action'],
        `step ${s.id} runs in the background (wait: false) but ${s.action} changes something`,
      );
    else if (s.kind !== 'action' && s.kind !== 'notify' && s.kind !== 'parallel')
      add(
        [...p, 'kind'],
        `step ${s.id} runs in the background (wait: false): only actions, notify and parallel may`,
      );
    childLists(s).forEach((list) => list.forEach((c, i) => walk(c, [...p, 'steps', i])));
  };
  walk(step, path);
}
