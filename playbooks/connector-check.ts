/**
 * The playbook connector check (`playbook lint --connectors`, and a warning at start-up): which
 * containment steps of a playbook cannot run with the connectors this install has configured,
 * each with its line and column. It reads a containment step's literal params, or an input's
 * default where the param is `${{ inputs.<name> }}`; params templated from the incident are
 * checked against what any agent could need. agent.disable (the kill switch) always runs.
 */
import { isContaining } from '../domain/action-catalog';
import { PROVIDER_SETTING, type ConnectorCoverage } from '../domain/connector-coverage';
import { Playbook, type Step } from '../domain/playbook';
import { isTemplated } from './expr';
import { parseSource, problemAt, type Path, type Problem } from './locate';
import { childLists } from './step-tree';

const CONNECTABLE = { aws_iam: [], postgres: [], http: [] };

const INPUT_REF = /^\$\{\{\s*inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** A param's value where it is known before the incident: a literal or an input's default. */
function knownValue(def: Playbook, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!isTemplated(value)) return value;
  const name = INPUT_REF.exec(value.trim())?.[1];
  const dflt = name ? def.inputs[name]?.default : undefined;
  return typeof dflt === 'string' ? dflt : undefined;
}

function accessProblem(def: Playbook, params: Record<string, unknown>, c: ConnectorCoverage) {
  const resource = knownValue(def, params.resource);
  // Unknown until the incident supplies it, or empty by default (the step's `when` skips it then).
  if (resource === undefined || resource === '') return undefined;
  const m = /^(postgres|http:[a-z0-9_-]+):(.+)$/.exec(resource);
  if (!m)
    return `resource ${resource} is not restrictable by any connector (use postgres:<role> or http:<system>:<name>)`;
  const provider = m[1]!;
  if (c.accessProviders.includes(provider)) return undefined;
  const setting =
    provider === 'postgres'
      ? PROVIDER_SETTING.postgres
      : `connectors.http_systems entry ${provider.slice(5)}`;
  return `no ${provider} connector for ${resource} (configure ${setting})`;
}

function credentialProblem(def: Playbook, params: Record<string, unknown>, c: ConnectorCoverage) {
  const wanted = knownValue(def, params.provider);
  if (c.inventoryProviders && Object.keys(c.inventoryProviders).length === 0)
    return 'no agent in the inventory has a credential (import them: POST /v1/agents or `agents import`)';
  // Without the inventory, every provider a connector exists for; with it, the ones agents hold.
  const providers = wanted ? [wanted] : Object.keys(c.inventoryProviders ?? CONNECTABLE);
  const missing = providers.filter((p) => !c.credentialProviders.includes(p));
  if (missing.length === 0) return undefined;
  const held = c.inventoryProviders;
  const each = missing.map((p) => {
    const who = held?.[p] ? ` held by ${held[p].join(', ')}` : '';
    return `${p}${who}: configure ${PROVIDER_SETTING[p] ?? 'a connector'}`;
  });
  const scope = held ? 'credentials in the inventory' : 'credentials of provider';
  return `no connector for ${scope} ${each.join('; ')}`;
}

function problemOf(def: Playbook, step: Step, c: ConnectorCoverage): string | undefined {
  if (step.kind !== 'action' || !isContaining(step.action)) return undefined;
  if (step.action === 'access.restrict') return accessProblem(def, step.params, c);
  if (step.action === 'credentials.revoke') return credentialProblem(def, step.params, c);
  return undefined;
}

/** Every containment step of a valid playbook that cannot run here, located in its source. */
export function checkConnectors(source: string, coverage: ConnectorCoverage): Problem[] {
  const src = parseSource(source);
  const parsed = Playbook.safeParse(src.doc.toJS());
  if (src.problems.length > 0 || !parsed.success) return [];
  const def = parsed.data;
  const out: Problem[] = [];
  const walk = (steps: Step[], base: Path) =>
    steps.forEach((step, i) => {
      const path = [...base, i];
      const why = problemOf(def, step, coverage);
      if (why && step.kind === 'action')
        out.push(
          problemAt(
            src,
            [...path, 'action'],
            `containment step ${step.id} (${step.action}) cannot run here: ${why}`,
          ),
        );
      const lists = childLists(step);
      const keys = step.kind === 'condition' ? ['steps', 'else'] : ['steps'];
      lists.forEach((list, j) => walk(list, [...path, keys[j] ?? 'steps']));
    });
  for (const [phase, steps] of Object.entries(def.phases)) walk(steps ?? [], ['phases', phase]);
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}
