/** The baseline for alert-to-containment: a bare workflow that runs one activity. */
import { proxyActivities } from '@temporalio/workflow';

const { touch } = proxyActivities<{ touch(startedAt: number): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
});

export async function bareWorkflow(sentAt: number): Promise<void> {
  await touch(sentAt);
}
