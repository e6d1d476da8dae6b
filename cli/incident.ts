/**
 * `npm run cli -- incident …`: responders' decisions over the HTTP API, the fallback when Slack is
 * down or not configured. FIREBREAK_URL (default http://127.0.0.1:3000) and FIREBREAK_TOKEN (an API
 * token with the `respond` scope) say where and as whom. Errors print the API's message and exit 1.
 */
import crypto from 'node:crypto';
import type { Command } from 'commander';

function target(): { url: string; token: string } {
  const token = process.env.FIREBREAK_TOKEN;
  if (!token) {
    console.error('FIREBREAK_TOKEN is not set: export an API token with the respond scope');
    process.exit(2);
  }
  return { url: (process.env.FIREBREAK_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, ''), token };
}

async function post(path: string, body: Record<string, unknown>): Promise<void> {
  const { url, token } = target();
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision_id: crypto.randomUUID(), ...body }),
    });
  } catch (err) {
    console.error(`cannot reach Firebreak at ${url}: ${(err as Error).message}`);
    process.exit(1);
  }
  const text = await res.text();
  if (!res.ok) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON: print as is
    }
    console.error(`${res.status}: ${msg}`);
    process.exit(1);
  }
  console.log(text);
}

export function registerIncidentCommands(program: Command): void {
  const incident = program.command('incident').description('decide on incidents through the API');
  incident
    .command('approve <incident> <step>')
    .option('--reason <text>')
    .description('approve a pending approval step')
    .action((id: string, step: string, o: { reason?: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/approvals/${encodeURIComponent(step)}`, {
        decision: 'approve',
        ...(o.reason ? { reason: o.reason } : {}),
      }),
    );
  incident
    .command('reject <incident> <step>')
    .requiredOption('--reason <text>', 'why (recorded on the timeline)')
    .description('reject a pending approval step')
    .action((id: string, step: string, o: { reason: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/approvals/${encodeURIComponent(step)}`, {
        decision: 'reject',
        reason: o.reason,
      }),
    );
  incident
    .command('task')
    .description('manual tasks')
    .command('done <incident> <step>')
    .option('--note <text>')
    .description('mark a manual task done')
    .action((id: string, step: string, o: { note?: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/tasks/${encodeURIComponent(step)}/done`, {
        ...(o.note ? { note: o.note } : {}),
      }),
    );
  incident
    .command('note <incident> <text>')
    .description('add a note to the timeline')
    .action((id: string, text: string) => post(`/v1/incidents/${encodeURIComponent(id)}/notes`, { text }));
  incident
    .command('abort <incident>')
    .requiredOption('--reason <text>')
    .description('abort the playbook (undoes all but containment, which stays in place)')
    .action((id: string, o: { reason: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/abort`, { reason: o.reason }),
    );
  incident
    .command('playbook <incident> <playbook>')
    .option('--reason <text>')
    .description('attach a playbook to an incident running triage (or none); it is pinned and runs')
    .action((id: string, playbook: string, o: { reason?: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/playbook`, {
        playbook,
        ...(o.reason ? { reason: o.reason } : {}),
      }),
    );
  incident
    .command('release <incident>')
    .requiredOption('--reason <text>', 'why containment may end (recorded on the timeline)')
    .description(
      'request a release of containment: opens a k-of-n approval (release_<n>) that others approve with `incident approve`',
    )
    .action((id: string, o: { reason: string }) =>
      post(`/v1/incidents/${encodeURIComponent(id)}/release`, { reason: o.reason }),
    );
}
