/**
 * Renders a validated playbook for people: a text outline (phases, steps, gates, conditions,
 * compensations) and a Mermaid flowchart (one subgraph per phase; conditions as diamonds,
 * approvals as hexagons with approved/rejected edges, parallel groups fanning out and joining).
 */
import { isActionName, undoOf } from '../domain/action-catalog';
import { ACTIONS } from '../domain/actions';
import { PHASES } from '../domain/phases';
import type { Playbook, Step } from '../domain/playbook';

function describe(step: Step): string {
  switch (step.kind) {
    case 'action': {
      const catalogUndo = isActionName(step.action) ? undoOf(step.action) : undefined;
      const undo =
        step.compensation === 'none'
          ? 'no undo'
          : step.compensation
            ? `undo: ${step.compensation.action}`
            : catalogUndo
              ? `undo: ${catalogUndo}`
              : isActionName(step.action) && !ACTIONS[step.action].mutates
                ? 'read-only'
                : 'irreversible';
      return `action ${step.action}${step.require_verified ? ' (must verify)' : ''} [${undo}]`;
    }
    case 'notify':
      return `notify ${step.target ?? 'incident channel'}: ${step.message}`;
    case 'wait':
      return `wait ${step.duration}`;
    case 'abort':
      return `ABORT: ${step.reason}`;
    case 'manual_task':
      return `task${step.assignee ? ` for ${step.assignee}` : ''}: ${step.task}${step.deadline ? ` (deadline ${step.deadline})` : ''}`;
    case 'approval': {
      const who = [
        ...step.approvers.users.map((u) => `user ${u}`),
        ...step.approvers.groups.map((g) => `group ${g}`),
        ...step.approvers.roles.map((r) => `role ${r}`),
      ].join(', ');
      const timeout = step.timeout
        ? `; after ${step.timeout}: ${step.on_timeout}${step.escalation ? ` to ${step.escalation.target}, then after ${step.escalation.timeout}: ${step.escalation.on_timeout}` : ''}`
        : '';
      return `GATE ${step.min_approvals} approval(s) from ${who}${timeout}: ${step.prompt}`;
    }
    case 'condition':
      return `if ${step.if}`;
    case 'parallel':
      return `parallel (${step.steps.length} steps)`;
  }
}

export function outline(def: Playbook): string {
  const out = [`${def.id} v${def.version}: ${def.title}`];
  const m = def.match;
  const match = [
    m.severities && `severity in ${m.severities.join('|')}`,
    ...Object.entries(m.labels ?? {}).map(([k, v]) => `label ${k}=${v}`),
    m.sources && `source in ${m.sources.join('|')}`,
    m.title_contains && `title contains ${m.title_contains.join('|')}`,
  ].filter(Boolean);
  out.push(`match: ${match.join(', ') || '(never selected automatically)'}`);
  const walk = (steps: Step[], indent: string) => {
    for (const s of steps) {
      const extras = [s.when && `when ${s.when}`, s.on_failure !== 'abort' && `on failure ${s.on_failure}`]
        .filter(Boolean)
        .join('; ');
      out.push(`${indent}- ${s.id}: ${describe(s)}${extras ? ` {${extras}}` : ''}`);
      if (s.kind === 'condition') {
        walk(s.steps, `${indent}    `);
        if (s.else) {
          out.push(`${indent}  else:`);
          walk(s.else, `${indent}    `);
        }
      } else if (s.kind === 'approval' && s.steps) walk(s.steps, `${indent}    `);
      else if (s.kind === 'parallel') walk(s.steps, `${indent}    `);
    }
  };
  for (const phase of PHASES) {
    const steps = def.phases[phase];
    if (!steps) continue;
    out.push('', `${phase}:`);
    walk(steps, '  ');
  }
  return out.join('\n');
}

interface Exit {
  id: string;
  label?: string;
}

export function mermaid(def: Playbook): string {
  const lines = ['flowchart TD', `  start(["${esc(def.title)}"])`];
  const edges: string[] = [];
  const text = (s: Step) => esc(`${s.id}: ${short(s)}`);
  const link = (from: Exit[], to: string) => {
    for (const f of from) edges.push(`  ${f.id} -->${f.label ? `|${f.label}|` : ''} ${to}`);
  };
  const emit = (steps: Step[], prev: Exit[]): Exit[] => {
    let exits = prev;
    for (const s of steps) {
      const shape =
        s.kind === 'condition'
          ? `{"${text(s)}"}`
          : s.kind === 'approval'
            ? `{{"${text(s)}"}}`
            : s.kind === 'parallel'
              ? `[["${text(s)}"]]`
              : s.kind === 'abort'
                ? `(["${text(s)}"])`
                : `["${text(s)}"]`;
      // Node ids are prefixed: a step may share its name with a phase or a Mermaid keyword.
      const id = `s_${s.id}`;
      lines.push(`    ${id}${shape}`);
      link(exits, id);
      if (s.kind === 'condition') {
        const yes = emit(s.steps, [{ id, label: 'yes' }]);
        const no = s.else ? emit(s.else, [{ id, label: 'no' }]) : [{ id, label: 'no' }];
        exits = [...yes, ...no];
      } else if (s.kind === 'approval') {
        const approved = emit(s.steps ?? [], [{ id, label: 'approved' }]);
        exits = [...approved, { id, label: 'rejected' }];
      } else if (s.kind === 'parallel') {
        exits = s.steps.flatMap((c) => emit([c], [{ id }]));
      } else if (s.kind === 'abort') {
        exits = s.when ? [{ id, label: 'skipped' }] : [];
      } else exits = [{ id }];
    }
    return exits;
  };
  let exits: Exit[] = [{ id: 'start' }];
  for (const phase of PHASES) {
    const steps = def.phases[phase];
    if (!steps) continue;
    lines.push(`  subgraph p_${phase}["${phase}"]`);
    exits = emit(steps, exits);
    lines.push('  end');
  }
  lines.push('  done(["done"])');
  link(exits, 'done');
  return [...lines, ...edges].join('\n');
}

function short(s: Step): string {
  switch (s.kind) {
    case 'action':
      return s.action;
    case 'notify':
      return `notify ${s.target ?? ''}`.trim();
    case 'approval':
      return `approval (${s.min_approvals} needed${s.timeout ? `, ${s.timeout} → ${s.on_timeout}` : ''})`;
    case 'condition':
      return `if ${s.if}`;
    case 'manual_task':
      return `task${s.deadline ? ` (${s.deadline})` : ''}`;
    case 'wait':
      return `wait ${s.duration}`;
    case 'abort':
      return 'abort';
    case 'parallel':
      return 'parallel';
  }
}

function esc(s: string): string {
  return s.replace(/"/g, '#quot;').replace(/\n/g, ' ');
}
