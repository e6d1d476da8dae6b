/**
 * The playbook linter: everything that makes a playbook wrong before it runs, each problem with
 * its line and column. Schema errors (from the zod schema), unknown catalog actions and action
 * params (checked against domain/actions.ts input schemas; templated values are opaque),
 * irreversible actions (mutating, no undo) outside an approval, approvals nobody can grant,
 * expressions that do not parse or read unknown steps, fields or inputs, duplicate step ids, and
 * unreachable steps (after an unconditional `abort`, or under a condition that is literally
 * false). The loader refuses any playbook with a problem.
 */
import { PHASES } from '../domain/phases';
import { Playbook, type Step } from '../domain/playbook';
import { evaluate, ExprError, parseExpr, pathsOf, templateExprs } from './expr';
import { checkAction, checkApproval, checkBackground, checkGate, type Add } from './lint-steps';
import { parseSource, problemAt, type Path, type Problem, type SourceDoc } from './locate';
import { AGENT_FIELDS, ALERT_FIELDS, INCIDENT_FIELDS, STEP_FIELDS } from './scope';
import { childLists } from './step-tree';

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
  private approvalDepth = 0;

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
    const add: Add = (p, message, opts) => this.add(p, message, opts);
    if (step.kind === 'action') {
      checkAction(add, step.action, step.params, path);
      checkGate(add, step.action, path, this.approvalDepth > 0);
    }
    if (step.kind === 'action' && step.compensation && step.compensation !== 'none') {
      const c = step.compensation;
      checkAction(add, c.action, c.params ?? step.params, [...path, 'compensation']);
    }
    if (step.kind === 'approval') checkApproval(add, step, path);
    checkBackground(add, step, path);
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
      this.approvalDepth++;
      this.list(step.steps, [...path, 'steps'], defined, false);
      this.approvalDepth--;
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
}
