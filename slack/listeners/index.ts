/** register(app): attaches every Slack listener (commands, actions, views, events) to the Bolt app. */
import type { App } from '@slack/bolt';
import type { SlackDeps } from '../context';
import { registerApprovalActions } from './actions/approval';
import { registerTaskActions } from './actions/task';
import { registerIncidentCommand } from './commands/incident';
import { registerTimelineReaction } from './events/reaction';
import { registerConfirm } from './views/confirm';
import { registerDeclare } from './views/declare';
import { registerRejectReason } from './views/reject-reason';

export function register(app: App, deps: SlackDeps): void {
  registerIncidentCommand(app, deps);
  registerApprovalActions(app, deps);
  registerTaskActions(app, deps);
  registerRejectReason(app, deps);
  registerDeclare(app, deps);
  registerConfirm(app, deps);
  registerTimelineReaction(app, deps);
}
