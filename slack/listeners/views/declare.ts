/**
 * The Declare modal's submission: opens an incident by hand through the same durable intake path
 * as the alert API (storeAlert commits it, the outbox starts the workflow), so a declared incident
 * gets its channel, card and playbook exactly like an alerted one.
 */
import type { App } from '@slack/bolt';
import { Severity, type Alert } from '../../../domain/alert';
import { storeAlert } from '../../../intake/store';
import { DECLARE_VIEW } from '../../blocks/modals';
import { nowIso, type SlackDeps } from '../../context';
import { safeText } from '../../escape';
import { replyVia } from '../replies';

export const DECLARED_SOURCE = 'slack';

export function registerDeclare(app: App, deps: SlackDeps): void {
  app.view(DECLARE_VIEW, async ({ ack, view, body }) => {
    const values = view.state.values;
    const title = values.title?.value?.value?.trim();
    if (!title) {
      await ack({ response_action: 'errors', errors: { title: 'Say what is happening.' } });
      return;
    }
    await ack();
    const severity = Severity.catch('high').parse(values.severity?.value?.selected_option?.value);
    const agentId = values.agent?.value?.value?.trim() || undefined;
    const drill = (values.mode?.value?.selected_options ?? []).some((o) => o.value === 'drill');
    const receivedAt = nowIso(deps);
    const alert: Alert = {
      format: 'generic',
      source: DECLARED_SOURCE,
      origin: 'slack',
      // One incident per modal: Slack re-sending the same submission joins it instead of opening another.
      dedupKey: `declared-${view.id}`,
      title,
      severity,
      status: 'firing',
      agentId,
      labels: { declared_by: body.user.id },
      details: { declared_via: 'slack', declared_by: body.user.id, declared_by_name: body.user.name },
      occurredAt: receivedAt,
    };
    const stored = await storeAlert(deps.db, alert, { receivedAt, mode: drill ? 'drill' : 'live' });
    deps.outbox.kick();
    const meta = JSON.parse(view.private_metadata || '{}') as { responseUrl?: string };
    await replyVia(meta.responseUrl, deps.log, {
      text: `:rotating_light: Declared ${drill ? 'drill ' : ''}incident \`${safeText(stored.incidentId, 80)}\`: ${safeText(title, 300)}. Its channel is on its way.`,
    });
  });
}
