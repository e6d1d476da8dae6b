/**
 * The full contract of each catalog action as data: input and output JSON Schemas (from the zod
 * schemas in domain/actions.ts and connectors/outputs.ts), whether it mutates, how it is verified,
 * its undo, and which actions a set of live connectors actually implements. For docs, the
 * OpenAPI document and the playbook linter ("this playbook needs a connector for X").
 */
import { z } from 'zod';
import { ACTION_NAMES, ACTIONS, type ActionName } from '../domain/actions';
import { ACTION_OUTPUTS } from './outputs';
import type { LiveConnectors } from './types';

export interface ActionContract {
  name: ActionName;
  description: string;
  mutates: boolean;
  verification: string;
  undo: string | undefined;
  input: unknown;
  output: unknown;
}

export function actionContract(name: ActionName): ActionContract {
  const spec = ACTIONS[name];
  return {
    name,
    description: spec.description,
    mutates: spec.mutates,
    verification: spec.verification,
    undo: 'undo' in spec ? spec.undo : undefined,
    input: z.toJSONSchema(spec.input, { io: 'input', unrepresentable: 'any' }),
    output: z.toJSONSchema(ACTION_OUTPUTS[name], { unrepresentable: 'any' }),
  };
}

export function actionContracts(): ActionContract[] {
  return ACTION_NAMES.map(actionContract);
}

/** Catalog actions with no live handler in `live`: a live playbook using them would fail. */
export function missingConnectors(
  live: LiveConnectors,
  needed: readonly ActionName[] = ACTION_NAMES,
): ActionName[] {
  return needed.filter((n) => !live[n]);
}
