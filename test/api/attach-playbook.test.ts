/**
 * Attaching a playbook to a running incident over the API and the CLI (issue 13 §3): an incident
 * that runs triage gets a playbook from a decider (`POST /v1/incidents/:id/playbook`); triage
 * stops, and the playbook is pinned exactly as at open (id, version, source hash, on the workflow
 * and the incident row) and runs. The decision is signed, audited with its actor and on the
 * timeline; a responder who is not a decider is refused (403, audited); an unknown playbook is
 * 404 naming the field; a second attach, once a playbook beyond triage runs, is 409.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { auditEntries } from '../../db/audit';
import { getIncident } from '../../db/incidents';
import { loadPlaybookDir } from '../../playbooks/loader';
import { incidentState } from '../../workflows/messages';
import { pbState, startIncident, timelineRows, waitForStep } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, type TestStack } from '../helpers/stack';

const tokens = {
  alice: 'alice-attach-token-0123456789',
  mallory: 'mallory-attach-token-01234567',
};
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');
const user = (id: string, slack: string, roles: string[], token: string) => ({
  id,
  name: id,
  slack_user_id: slack,
  roles,
  tokens: [{ token_sha256: sha(token), scopes: ['read', 'respond'] }],
});
const builtins = loadPlaybookDir();
const triage = builtins.find((p) => p.id === 'triage')!;
const tampering = builtins.find((p) => p.id === 'agent-config-tampering')!;
const projectRoot = path.resolve(import.meta.dirname, '..', '..');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      {
        users: [
          user('alice', 'U_ALICE', ['incident_commander'], tokens.alice),
          user('mallory', 'U_MALLORY', [], tokens.mallory),
        ],
      },
      {},
      'test config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const post = async (p: string, token: string, body: unknown) => {
  const res = await fetch(`${stack.url}/v1/incidents/${p}`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
};

/** A live incident running triage, waiting for its responders to choose a playbook. */
async function triaging() {
  const started = await startIncident(stack, { playbook: triage, mode: 'live' });
  await waitForStep(started.handle, 'choose_playbook', 'waiting');
  return started;
}

describe('attaching a playbook to a running incident', () => {
  it('a decider attaches one: triage stops, the playbook is pinned as at open and runs, audited with its actor', async () => {
    const { incidentId, handle } = await triaging();
    const res = await post(`${incidentId}/playbook`, tokens.alice, {
      playbook: 'agent-config-tampering',
      reason: 'the agent config changed',
    });
    expect(res.status).toBe(200);
    const state = await eventually(async () => {
      const s = await handle.query(incidentState);
      return s.playbook?.id === 'agent-config-tampering' ? s : undefined;
    });
    expect(state.playbook).toMatchObject({
      id: tampering.id,
      version: tampering.version,
      hash: tampering.hash,
    });
    const pb = await eventually(async () => {
      const s = await pbState(handle);
      return s.id === tampering.id && s.steps.length > 0 ? s : undefined;
    });
    expect(pb.hash).toBe(tampering.hash);
    const row = await eventually(async () => {
      const r = await getIncident(stack.db, incidentId);
      return r?.playbookId === tampering.id ? r : undefined;
    });
    expect(row).toMatchObject({ playbookVersion: tampering.version, playbookHash: tampering.hash });

    const events = await eventually(() => {
      const rows = timelineRows(stack, incidentId);
      return rows.some((e) => e.kind === 'playbook.pinned') ? rows : undefined;
    });
    expect(events.find((e) => e.kind === 'playbook.attached')).toMatchObject({
      actor: 'U_ALICE',
      data: { playbook: { id: tampering.id, hash: tampering.hash }, replaced: 'triage' },
    });
    expect(events.find((e) => e.kind === 'playbook.aborted')?.message).toMatch(
      /Playbook triage aborted: playbook agent-config-tampering attached by U_ALICE/,
    );
    // The attached playbook's own steps are on the timeline, also those it shares with triage
    // (its announce: once for triage, once for itself).
    await eventually(
      () =>
        timelineRows(stack, incidentId).filter(
          (e) => e.kind.startsWith('step.') && e.data?.stepId === 'announce',
        ).length > 1 || undefined,
      15_000,
      'announce on the timeline for triage and for the attached playbook',
    );
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action])).toContainEqual(['U_ALICE', 'decision.attach_playbook']);

    // One beyond triage now runs: a second attach is a conflict.
    const again = await post(`${incidentId}/playbook`, tokens.alice, { playbook: 'agent-credential-leak' });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toMatch(/already runs playbook agent-config-tampering/);
  });

  it('refuses a responder who is not a decider (403), on the timeline and in the audit log', async () => {
    const { incidentId, handle } = await triaging();
    const res = await post(`${incidentId}/playbook`, tokens.mallory, { playbook: 'agent-config-tampering' });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/U_MALLORY may not attach a playbook to this incident/);
    expect((await pbState(handle)).id).toBe('triage');
    const refused = await eventually(() =>
      timelineRows(stack, incidentId).find((e) => e.kind === 'decision.refused'),
    );
    expect(refused).toMatchObject({ actor: 'U_MALLORY', data: { decision: 'attach', verified: true } });
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toContainEqual([
      'U_MALLORY',
      'decision.attach',
      'refused',
    ]);
  });

  it('an unknown playbook is 404 naming the field; a missing one 400 naming it', async () => {
    const { incidentId } = await triaging();
    const unknown = await post(`${incidentId}/playbook`, tokens.alice, { playbook: 'no-such-playbook' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ code: 'unknown_playbook', field: 'playbook' });
    const missing = await post(`${incidentId}/playbook`, tokens.alice, {});
    expect(missing.status).toBe(400);
    expect(missing.json.error.field).toBe('playbook');
  });

  it('works from the CLI', async () => {
    const { incidentId, handle } = await triaging();
    await promisify(execFile)(
      path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [
        path.join(projectRoot, 'cli', 'index.ts'),
        'incident',
        'playbook',
        incidentId,
        'agent-config-tampering',
      ],
      { env: { ...process.env, FIREBREAK_URL: stack.url, FIREBREAK_TOKEN: tokens.alice } },
    );
    await eventually(async () => (await handle.query(incidentState)).playbook?.id === tampering.id);
  });
});
