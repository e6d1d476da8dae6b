/**
 * Slack wiring for the composition root (app/runtime.ts, test stacks): the notifier the worker's
 * activities use, and the Bolt surface the API serves. Both are undefined without Slack config.
 */
import type { Config } from '../app/config';
import { PeopleDirectory } from '../domain/people';
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

/** Slack users as deciders: SLACK_USER_ROLES, linked to the config file's users by slack_user_id. */
export function slackPeople(config: Config, users = config.file.users): PeopleDirectory {
  return new PeopleDirectory(users, config.slack?.identities ?? {});
}

export async function startSlack(
  config: Config,
  deps: Omit<SlackDeps, 'config' | 'people'> & { people?: PeopleDirectory },
): Promise<SlackSurface | undefined> {
  if (!config.slack) return undefined;
  const surface = createSlackApp({
    ...deps,
    people: deps.people ?? slackPeople(config),
    config: config.slack,
  });
  await surface.start();
  return surface;
}
