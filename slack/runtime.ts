/**
 * Slack wiring for the composition root (app/runtime.ts, test stacks): the notifier the worker's
 * activities use, and the Bolt surface the API serves. Both are undefined without Slack config.
 */
import type { Config } from '../app/config';
import { createSlackApp, type SlackSurface } from './app';
import { createSlackApi } from './client';
import type { SlackDeps } from './context';
import type { SlackNotifierDeps } from './notifier';

export function slackNotifier(config: Config, temporalUiUrl: string | undefined): SlackNotifierDeps['slack'] {
  if (!config.slack) return undefined;
  return {
    api: createSlackApi(config.slack),
    config: config.slack,
    links: { publicUrl: config.publicUrl, temporalUiUrl, namespace: config.temporal.namespace },
  };
}

export async function startSlack(
  config: Config,
  deps: Omit<SlackDeps, 'config'>,
): Promise<SlackSurface | undefined> {
  if (!config.slack) return undefined;
  const surface = createSlackApp({ ...deps, config: config.slack });
  await surface.start();
  return surface;
}
