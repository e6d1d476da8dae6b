/**
 * The playbook linter: everything that makes a playbook wrong before it runs, each problem with
 * its line and column. Schema errors (from the zod schema), unknown catalog actions and action
 * params (checked against domain/actions.ts input schemas; templated values are opaque),
 * approvals nobody can grant, expressions that do not parse or read unknown steps, fields or
 * inputs, duplicate step ids, and unreachable steps (after an unconditional `abort`, or under a
 * condition that is literally false). The loader refuses any playbook with a problem.
 */
import type { z } from 'zod';
import { ACTIONS, isActionName } from '../domain/actions';
import { PHASES } from '../domain/phases';
import { evaluate, ExprError, isTemplated, parseExpr, pathsOf, templateExprs } from './expr';
import { parseSource, problemAt, type Path, type Problem, type SourceDoc } from './locate';
import { AGENT_FIELDS, ALERT_FIELDS, INCIDENT_FIELDS, STEP_FIELDS } from './scope';
import { childLists, Playbook, type Step } from './schema';

export type { Problem } from './locate';

export interface LintResult {
  problems: Problem[];
  definition?: Playbook;
}

export function lintSource(source: string): LintResult {
  const src = parseSource(source);
  if (src.problems.length > 0) return { problems: src.problems };
  const parsed = Playbook.safeParse(src.doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path as Path;
      const where = path.join('.') || '(root)';
      const last = path[path.length - 1];
      if (issue.code === 'custom' && typeof last === 'string') {
        return problemAt(src, path.slice(0, -1), `${where}: ${issue.message}`, { key: last });
      }
      if (issue.code === 'unrecognized_keys') {
        return problemAt(src, path, `${where}: unknown field ${issue.keys.join(', ')}`, {
          key: issue.keys[0],
        });
      }
      return problemAt(src, path, `${where}: ${issue.message}`);
    });
    return { problems: sortProblems(problems) };
  }
  return { problems: sortProblems(new Checker(src, parsed.data).run()), definition: parsed.data };
}

function sortProblems(p: Problem[]): Problem[] {
  return p.sort((a, b) => a.line - b.line || a.col - b.col);
}

const ROOT_FIELDS: Record<string, readonly string[]> = {
  incident: INCIDENT_FIELDS,
  alert: ALERT_FIELDS,
  agent: AGENT_FIELDS,
};

class Checker {
  private readonly problems: Problem[] = [];
  private readonly firstSeen = new Map<string, Path>();
  private readonly allIds = new Set<string>();

  constructor(
    private readonly src: SourceDoc,
    private readonly def: Playbook,
  ) {}

  run(): Problem[] {
    const collect = (steps: Step[]) =>
      steps.forEach((s) => {
        this.allIds.add(s.id);
        childLists(s).forEach(collect);
      });
    PHASES.forEach((p) => collect(this.def.phases[p] ?? []));
    const defined = new Set<string>();
    let abortedAt: Path | undefined;
    for (const phase of PHASES) {
      const steps = this.def.phases[phase];
      if (!steps) continue;
      if (abortedAt && steps[0]) this.unreachable(['phases', phase, 0], abortedAt, 'abort');
      const stop = this.list(steps, ['phases', phase], defined, abortedAt !== undefined);
      abortedAt ??= stop;
    }
    return this.problems;
  }

  private add(path: Path, message: string, opts: { key?: string; offset?: number } = {}) {
    this.problems.push(problemAt(this.src, path, message, opts));
  }

  private unreachable(path: Path, cause: Path, why: 'abort' | 'false') {
    const line = problemAt(this.src, cause, '').line;
    this.add(
      path,
      why === 'abort'
        ? `unreachable step: it follows an unconditional abort (line ${line})`
        : `unreachable step: its condition (line ${line}) is always false`,
    );
  }

  /** Checks a step list; returns the path of an unconditional abort in it, if any. */
  private list(steps: Step[], base: Path, defined: Set<string>, silent: boolean): Path | undefined {
    let abortAt: Path | undefined;
    steps.forEach((step, i) => {
      const path = [...base, i];
      if (abortAt && !silent) this.unreachable(path, abortAt, 'abort');
      this.step(step, path, defined);
      if (step.kind === 'abort' && !step.when) abortAt ??= [...path, 'kind'];
    });
    return abortAt;
  }

  private step(step: Step, path: Path, defined: Set<string>) {
    const first = this.firstSeen.get(step.id);
    if (first) {
      const line = problemAt(this.src, first, '').line;
      this.add([...path, 'id'], `duplicate step id ${step.id} (first defined on line ${line})`);
    } else this.firstSeen.set(step.id, [...path, 'id']);

    if (step.when) {
      const ast = this.expr(step.when, [...path, 'when'], defined, 0);
      if (ast && pathsOf(ast).length === 0 && !evaluate(ast, {}))
        this.unreachable(path, [...path, 'when'], 'false');
    }
    this.templates(step, path, defined);
    if (step.kind === 'action') this.action(step.action, step.params, path, defined);
    if (step.kind === 'action' && step.compensation && step.compensation !== 'none') {
      this.action(
        step.compensation.action,
        step.compensation.params ?? step.params,
        [...path, 'compensation'],
        defined,
      );
    }
    if (step.kind === 'approval') this.approval(step, path);
    defined.add(step.id);

    if (step.kind === 'condition') {
      const ast = this.expr(step.if, [...path, 'if'], defined, 0);
      const constant = ast && pathsOf(ast).length === 0 ? Boolean(evaluate(ast, {})) : undefined;
      if (constant === false) this.unreachable([...path, 'steps', 0], [...path, 'if'], 'false');
      if (constant === true && step.else?.[0])
        this.unreachable([...path, 'else', 0], [...path, 'if'], 'false');
      this.list(step.steps, [...path, 'steps'], defined, constant === false);
      if (step.else) this.list(step.else, [...path, 'else'], defined, constant === true);
    } else if (step.kind === 'parallel') {
      // Siblings run together: none may read another's result.
      const inner = step.steps.map((s, i) => {
        const own = new Set(defined);
        this.step(s, [...path, 'steps', i], own);
        return own;
      });
      inner.forEach((set) => set.forEach((id) => defined.add(id)));
    } else if (step.kind === 'approval' && step.steps) {
      this.list(step.steps, [...path, 'steps'], defined, false);
    }
  }

  private templates(step: Step, path: Path, defined: Set<string>) {
    const fields: Record<string, unknown> = {
      message: 'message' in step ? step.message : undefined,
      target: 'target' in step ? step.target : undefined,
      requester: 'requester' in step ? step.requester : undefined,
      task: 'task' in step ? step.task : undefined,
      prompt: 'prompt' in step ? step.prompt : undefined,
      reason: 'reason' in step ? step.reason : undefined,
      params: 'params' in step ? step.params : undefined,
    };
    if (step.kind === 'action' && step.compensation && step.compensation !== 'none') {
      fields.compensation = step.compensation;
    }
    const walk = (v: unknown, p: Path) => {
      if (typeof v === 'string') {
        for (const t of templateExprs(v)) this.expr(t.src, p, defined, t.offset);
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
      else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, [...p, k]));
    };
    Object.entries(fields).forEach(([k, v]) => walk(v, [...path, k]));
  }

  private expr(source: string, path: Path, defined: Set<string>, offset: number) {
    let ast;
    try {
      ast = parseExpr(source);
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      this.add(path, `expression error: ${err.message} in "${source.trim()}"`, { offset: offset + err.pos });
      return undefined;
    }
    for (const ref of pathsOf(ast)) {
      const at = { offset: offset + ref.pos };
      const [first, second] = ref.segs;
      const name = [ref.root, ...ref.segs].join('.');
      if (ref.root === 'steps') {
        const id = String(first ?? '');
        if (!this.allIds.has(id)) this.add(path, `unknown step ${id} in ${name}`, at);
        else if (!defined.has(id)) this.add(path, `step ${id} is read in ${name} before it runs`, at);
        else if (second !== undefined && !(STEP_FIELDS as readonly string[]).includes(String(second))) {
          this.add(path, `unknown field ${second} of a step in ${name} (use ${STEP_FIELDS.join(', ')})`, at);
        }
      } else if (ref.root === 'inputs') {
        if (!Object.hasOwn(this.def.inputs, String(first)))
          this.add(path, `unknown input ${String(first)} in ${name}`, at);
      } else if (ROOT_FIELDS[ref.root]) {
        if (first === undefined || !ROOT_FIELDS[ref.root]!.includes(String(first))) {
          this.add(
            path,
            `unknown field ${name} (use ${ROOT_FIELDS[ref.root]!.map((f) => `${ref.root}.${f}`).join(', ')})`,
            at,
          );
        }
      } else {
        this.add(path, `unknown name ${ref.root} (use incident, alert, agent, inputs or steps)`, at);
      }
    }
    return ast;
  }

  private action(name: string, params: Record<string, unknown>, path: Path, _defined: Set<string>) {
    if (!isActionName(name)) {
      this.add([...path, 'action'], `unknown action ${name} (known: ${Object.keys(ACTIONS).join(', ')})`);
      return;
    }
    const shape = (ACTIONS[name].input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const [key, value] of Object.entries(params)) {
      const field = shape[key];
      if (!field) {
        this.add(
          [...path, 'params'],
          `unknown param ${key} for ${name} (known: ${Object.keys(shape).join(', ')})`,
          { key },
        );
        continue;
      }
      if (isTemplated(value)) continue;
      const r = field.safeParse(value);
      if (!r.success)
        this.add([...path, 'params', key], `invalid param ${key} for ${name}: ${r.error.issues[0]?.message}`);
    }
    for (const [key, field] of Object.entries(shape)) {
      if (!Object.hasOwn(params, key) && !field.safeParse(undefined).success) {
        this.add([...path, 'action'], `missing required param ${key} for ${name}`);
      }
    }
  }

  private approval(step: Extract<Step, { kind: 'approval' }>, path: Path) {
    const a = step.approvers;
    if (a.users.length + a.groups.length + a.roles.length === 0) {
      this.add([...path, 'approvers'], `approval ${step.id} has no approvers (name users, groups or roles)`);
    } else if (a.groups.length + a.roles.length === 0 && new Set(a.users).size < step.min_approvals) {
      this.add(
        [...path, 'min_approvals'],
        `approval ${step.id} needs ${step.min_approvals} approvals but names only ${new Set(a.users).size} approvers`,
      );
    }
    if (step.on_timeout === 'escalate' && !step.escalation) {
      this.add(
        [...path, 'on_timeout'],
        `approval ${step.id} escalates on timeout but has no escalation (target, timeout)`,
      );
    }
    if (step.on_timeout !== 'escalate' && step.escalation) {
      this.add(
        [...path, 'escalation'],
        `approval ${step.id} has an escalation but on_timeout is ${step.on_timeout}`,
      );
    }
  }
}
