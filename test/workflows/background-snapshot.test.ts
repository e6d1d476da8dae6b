/**
 * Preserve first, without slowing containment (issue 16 §4): the built-in playbooks snapshot the
 * agent's traces in the background at the start of assess. Here the trace store is a loopback
 * server that speaks Phoenix's spans API and holds every answer until the test releases it: the
 * disable must succeed while the snapshot's query is still held, and once released the snapshot's
 * evidence is stored with custody. A playbook's post-mortem waits for a snapshot still running.
 */
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveConnectors } from '../../connectors/types';
import { loadPlaybookDir } from '../../playbooks/loader';
import { importAgents, liveFor, localServer, type LocalServer } from '../connectors/fixtures';
import { pbState, pinYaml, startIncident, waitForPlaybook, waitForStep } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

/** A Phoenix-shaped trace store whose answers wait for `release()`. */
class HeldTraceStore {
  readonly paths: string[] = [];
  private held: http.ServerResponse[] = [];
  private released = false;
  server!: LocalServer;

  async start(): Promise<void> {
    this.server = await localServer((req, res) => {
      this.paths.push(req.url ?? '');
      if (this.released) this.answer(res);
      else this.held.push(res);
    });
  }

  get waiting(): number {
    return this.held.length;
  }

  /** Holds every answer from now on, until the next release. */
  hold(): void {
    this.released = false;
  }

  release(): void {
    this.released = true;
    for (const res of this.held.splice(0)) this.answer(res);
  }

  private answer(res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [], next_cursor: null }));
  }
}

let store: HeldTraceStore;
let stack: TestStack;
let live: LiveConnectors | undefined;

beforeAll(async () => {
  store = new HeldTraceStore();
  await store.start();
  stack = await startTestStack({
    liveConnectors: () =>
      (live ??= liveFor(stack, {
        traceStore: { type: 'phoenix', url: store.server.url, project: 'default' },
      })),
  });
  await importAgents(stack, [
    { id: 'agent-held', name: 'Held bot', owner: 'sec@example.com', environment: 'prod', credentials: [] },
  ]);
});
afterAll(async () => {
  store?.release();
  await stack?.close();
  await store?.server.close();
});

async function evidenceOf(incidentId: string): Promise<{ kind: string; collected_by: string }[]> {
  const res = await fetch(`${stack.url}/v1/incidents/${incidentId}/evidence`, {
    headers: bearer(TEST_ADMIN_TOKEN),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { evidence: { kind: string; collected_by: string }[] }).evidence;
}

describe('a background snapshot beside containment', () => {
  it('containment completes while the trace store still holds the snapshot; released, it is stored', async () => {
    const playbook = loadPlaybookDir().find((p) => p.id === 'agent-credential-leak')!;
    const { incidentId, handle } = await startIncident(stack, {
      playbook,
      mode: 'live',
      severity: 'high',
      agentId: 'agent-held',
      labels: { incident_class: 'credential_leak' },
    });
    const contained = await waitForStep(handle, 'disable_agent', 'succeeded', 60_000);
    expect(store.waiting, 'the snapshot query is held by the trace store').toBeGreaterThan(0);
    expect(store.paths[0]).toMatch(/^\/v1\/projects\/default\/spans\?/);
    expect(contained.steps.find((s) => s.id === 'preserve_traces')?.status).toBe('running');
    expect(contained.contained).toContain('disable_agent');
    expect((await evidenceOf(incidentId)).filter((e) => e.collected_by === 'step:preserve_traces')).toEqual(
      [],
    );

    store.release();
    await waitForStep(handle, 'preserve_traces', 'succeeded', 60_000);
    const evidence = await eventually(async () => {
      const e = await evidenceOf(incidentId);
      return e.some((x) => x.collected_by === 'step:preserve_traces') ? e : undefined;
    }, 30_000);
    expect(evidence.find((x) => x.collected_by === 'step:preserve_traces')?.kind).toBe('agent_traces');
  });

  it('the post-mortem waits for a background snapshot still running', async () => {
    const playbook = pinYaml(`
id: held-postmortem
version: 1
title: Post-mortem after a held snapshot
phases:
  assess:
    - id: snap
      kind: action
      action: evidence.collect
      params: { agent_id: agent-held, kind: agent_traces, window_minutes: 60 }
      wait: false
  postmortem:
    - { id: closing, kind: notify, message: post-mortem written }
`);
    store.hold();
    const { handle } = await startIncident(stack, { playbook, mode: 'live', agentId: 'agent-held' });
    await eventually(() => store.waiting > 0, 30_000, 'the snapshot query at the trace store');
    const s = await eventually(async () => {
      const st = await pbState(handle);
      return st.phase === 'postmortem' ? st : undefined;
    }, 30_000);
    expect(s.steps.find((x) => x.id === 'snap')?.status).toBe('running');
    expect(s.steps.find((x) => x.id === 'closing')?.status ?? 'pending').toBe('pending');
    store.release();
    const done = await waitForPlaybook(handle, 'completed', 60_000);
    const snap = done.steps.find((x) => x.id === 'snap')!;
    const closing = done.steps.find((x) => x.id === 'closing')!;
    expect(snap.status).toBe('succeeded');
    expect(closing.status).toBe('succeeded');
    expect(Date.parse(closing.startedAt!)).toBeGreaterThanOrEqual(Date.parse(snap.finishedAt!));
  });
});
