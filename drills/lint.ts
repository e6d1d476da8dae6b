/**
 * The scenario linter (`drill lint <file>`): YAML and schema problems, then cross-checks against
 * the playbook the scenario rehearses: it must exist, and every step an inject, a decision or an
 * expectation names must be one of its steps (approvals for approve/reject, manual tasks for
 * complete); decisions must name declared responders. Every problem has a line and column.
 */
import fs from 'node:fs';
import { loadPlaybookDir } from '../playbooks/loader';
import { parseSource, problemAt, type Path, type Problem } from '../playbooks/locate';
import { indexSteps } from '../workflows/playbook-model';
import { DrillScenario } from './schema';

export interface DrillLintResult {
  problems: Problem[];
  scenario?: DrillScenario;
}

export function lintDrillSource(source: string): DrillLintResult {
  const src = parseSource(source);
  if (src.problems.length > 0) return { problems: src.problems };
  const parsed = DrillScenario.safeParse(src.doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path as Path;
      const where = path.join('.') || '(root)';
      if (issue.code === 'unrecognized_keys')
        return problemAt(src, path, `${where}: unknown field ${issue.keys.join(', ')}`, {
          key: issue.keys[0],
        });
      return problemAt(src, path, `${where}: ${issue.message}`);
    });
    return { problems: sort(problems) };
  }
  const s = parsed.data;
  const problems: Problem[] = [];
  const playbook = loadPlaybookDir().find((p) => p.id === s.playbook);
  if (!playbook) {
    problems.push(problemAt(src, ['playbook'], `playbook: no built-in playbook ${s.playbook}`));
    return { problems };
  }
  const steps = indexSteps(playbook.definition);
  const checkStep = (path: Path, id: string, kinds?: string[]) => {
    const entry = steps.get(id);
    if (!entry) problems.push(problemAt(src, path, `${path.join('.')}: ${s.playbook} has no step ${id}`));
    else if (kinds && !kinds.includes(entry.step.kind))
      problems.push(
        problemAt(
          src,
          path,
          `${path.join('.')}: ${id} is ${/^[aeiou]/.test(entry.step.kind) ? 'an' : 'a'} ${entry.step.kind}, not ${kinds.join(' or ')}`,
        ),
      );
  };
  s.injects.forEach((i, n) => {
    if (i.type === 'outcome') checkStep(['injects', n, 'step'], i.step, ['action', 'notify']);
  });
  const responders = new Set(s.responders.map((r) => r.id));
  s.decisions.forEach((d, n) => {
    checkStep(['decisions', n, 'step'], d.step, d.decision === 'complete' ? ['manual_task'] : ['approval']);
    d.by.forEach((id, k) => {
      if (!responders.has(id))
        problems.push(
          problemAt(src, ['decisions', n, 'by', k], `decisions.${n}.by.${k}: no responder ${id}`),
        );
    });
  });
  const ids = new Set<string>();
  s.expectations.forEach((e, n) => {
    if (ids.has(e.id))
      problems.push(problemAt(src, ['expectations', n, 'id'], `expectations.${n}.id: duplicate ${e.id}`));
    ids.add(e.id);
    if ('step' in e)
      checkStep(['expectations', n, 'step'], e.step, e.type === 'approved_within' ? ['approval'] : undefined);
    if (e.type === 'before') {
      for (const k of ['first', 'then'] as const) {
        const [kind, id] = e[k].split(':') as [string, string];
        if (kind === 'step') checkStep(['expectations', n, k], id);
      }
    }
  });
  return { problems: sort(problems), scenario: s };
}

function sort(p: Problem[]): Problem[] {
  return p.sort((a, b) => a.line - b.line || a.col - b.col);
}

export class DrillScenarioError extends Error {}

/** Reads and validates a scenario file; throws listing every problem as file:line:col. */
export function loadScenarioFile(file: string): DrillScenario {
  const { problems, scenario } = lintDrillSource(fs.readFileSync(file, 'utf8'));
  if (!scenario || problems.length > 0)
    throw new DrillScenarioError(problems.map((p) => `${file}:${p.line}:${p.col} ${p.message}`).join('\n'));
  return scenario;
}
