import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintSource } from '../../playbooks/lint';
import { BUILTIN_PLAYBOOK_DIR } from '../../playbooks/loader';

/** `file:line:col message` lines, as the CLI prints them, without the file. */
function lint(yaml: string): string[] {
  return lintSource(yaml).problems.map((p) => `${p.line}:${p.col} ${p.message}`);
}

const head = `id: lint-test
version: 1
title: Lint test
phases:
`;

describe('playbook lint', () => {
  it('accepts every built-in playbook', () => {
    const files = fs.readdirSync(BUILTIN_PLAYBOOK_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files).toHaveLength(5);
    for (const f of files) {
      expect(lintSource(fs.readFileSync(path.join(BUILTIN_PLAYBOOK_DIR, f), 'utf8')).problems, f).toEqual([]);
    }
  });

  it('reports YAML syntax errors with their position', () => {
    expect(lint(`${head}  assess: [\n`)).toEqual([expect.stringMatching(/^6:1 Flow sequence/)]);
  });

  it('reports schema errors at the offending line: bad kind, unknown field, bad duration', () => {
    const problems = lint(`${head}  assess:
    - id: a
      kind: teleport
    - id: b
      kind: wait
      duration: soon
    - id: c
      kind: notify
      message: hi
      colour: red
`);
    expect(problems).toEqual([
      expect.stringMatching(/^7:13 phases\.assess\.0\.kind: Invalid discriminator value/),
      expect.stringMatching(/^10:17 phases\.assess\.1\.duration: use a duration like 30s/),
      expect.stringMatching(/^14:7 phases\.assess\.2: unknown field colour/),
    ]);
  });

  it('rejects phases out of order', () => {
    expect(
      lint(`${head}  contain:
    - { id: a, kind: notify, message: hi }
  assess:
    - { id: b, kind: notify, message: hi }
`),
    ).toEqual([
      expect.stringMatching(/^7:3 phases\.assess: phases must appear in the order assess, contain/),
    ]);
  });

  it('reports unknown actions, unknown params, invalid params and missing required params', () => {
    expect(
      lint(`${head}  contain:
    - id: a
      kind: action
      action: agent.nuke
      params: { agent_id: x }
    - id: b
      kind: action
      action: agent.disable
      params: { agent_id: x, force: true }
    - id: c
      kind: action
      action: evidence.collect
      params: { agent_id: '\${{ incident.agent_id }}', kind: keystrokes }
    - id: d
      kind: action
      action: access.restrict
      params: { agent_id: '\${{ incident.agent_id }}' }
`),
    ).toEqual([
      expect.stringMatching(/^8:15 unknown action agent\.nuke/),
      expect.stringMatching(/^13:30 unknown param force for agent\.disable/),
      expect.stringMatching(/^17:61 invalid param kind for evidence\.collect/),
      expect.stringMatching(/^20:15 missing required param resource for access\.restrict/),
    ]);
  });

  it('treats templated params as opaque', () => {
    expect(
      lint(`${head}  contain:
    - id: a
      kind: action
      action: evidence.collect
      params: { agent_id: x, kind: '\${{ alert.labels.kind }}', window_minutes: '\${{ inputs.window }}' }
inputs:
  window: { type: number, default: 60 }
`),
    ).toEqual([]);
  });

  it('reports approvals without approvers and escalation without a target', () => {
    expect(
      lint(`${head}  contain:
    - id: gate
      kind: approval
      prompt: ok?
      approvers: {}
      timeout: 5m
      on_timeout: escalate
`),
    ).toEqual([
      expect.stringMatching(/^9:18 approval gate has no approvers/),
      expect.stringMatching(/^11:19 approval gate escalates on timeout but has no escalation/),
    ]);
  });

  it('reports references to unknown steps, steps not yet run, unknown fields and unknown inputs', () => {
    expect(
      lint(`${head}  contain:
    - id: first
      kind: notify
      message: '\${{ steps.later.output.x }} and \${{ steps.ghost.ok }}'
    - id: later
      kind: notify
      when: steps.first.colour == 'red' || incident.severty == 'high'
      message: '\${{ inputs.nope }} \${{ secrets.token }}'
`),
    ).toEqual([
      expect.stringMatching(/^8:21 step later is read in steps\.later\.output\.x before it runs/),
      expect.stringMatching(/^8:53 unknown step ghost in steps\.ghost\.ok/),
      expect.stringMatching(/^11:13 unknown field colour of a step/),
      expect.stringMatching(/^11:44 unknown field incident\.severty/),
      expect.stringMatching(/^12:21 unknown input nope/),
      expect.stringMatching(/^12:40 unknown name secrets/),
    ]);
  });

  it('reports expression syntax errors', () => {
    expect(
      lint(`${head}  assess:
    - id: a
      kind: notify
      when: incident.severity ==
      message: hi
`),
    ).toEqual([expect.stringMatching(/^8:33 expression error: unexpected end of expression/)]);
  });

  it('reports duplicate step ids, pointing at the first definition', () => {
    expect(
      lint(`${head}  assess:
    - { id: dup, kind: notify, message: a }
  contain:
    - id: box
      kind: parallel
      steps:
        - { id: dup, kind: notify, message: b }
`),
    ).toEqual([expect.stringMatching(/^11:17 duplicate step id dup \(first defined on line 6\)/)]);
  });

  it('reports steps after an unconditional abort, including later phases, and under a literally false condition', () => {
    expect(
      lint(`${head}  contain:
    - { id: stop, kind: abort, reason: never continue }
    - { id: after, kind: notify, message: unreachable }
  investigate:
    - { id: later, kind: notify, message: unreachable too }
  remediate:
    - id: never
      kind: condition
      if: 1 == 2
      steps:
        - { id: inside, kind: notify, message: dead }
    - { id: off, kind: notify, message: x, when: 'false' }
`),
    ).toEqual([
      expect.stringMatching(/^7:7 unreachable step: it follows an unconditional abort \(line 6\)/),
      expect.stringMatching(/^9:7 unreachable step: it follows an unconditional abort \(line 6\)/),
      expect.stringMatching(/^11:7 unreachable step: it follows an unconditional abort \(line 6\)/),
      expect.stringMatching(/^15:11 unreachable step: its condition \(line 13\) is always false/),
      expect.stringMatching(/^16:7 unreachable step: its condition \(line 16\) is always false/),
    ]);
  });

  it('does not flag steps after a conditional abort', () => {
    expect(
      lint(`${head}  contain:
    - { id: stop, kind: abort, reason: x, when: "incident.severity == 'low'" }
    - { id: after, kind: notify, message: reachable }
`),
    ).toEqual([]);
  });
});

describe('approval gates', () => {
  it('requires irreversible actions (no undo in the catalog) to sit inside an approval', () => {
    expect(
      lint(`${head}  remediate:
    - { id: rotate, kind: action, action: credentials.rotate, params: { agent_id: x } }
    - id: gate
      kind: approval
      prompt: rotate?
      approvers: { roles: [ic] }
      steps:
        - { id: rotate_ok, kind: action, action: credentials.rotate, params: { agent_id: x } }
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: x } }
`),
    ).toEqual([expect.stringMatching(/^6:43 irreversible action credentials\.rotate must be gated/)]);
  });
});
