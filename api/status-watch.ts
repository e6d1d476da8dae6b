/**
 * Notices kill-switch changes for the OFREP event stream. The worker that disables an agent may
 * run in another process, so the only common ground is the DB: while anyone listens, every agent's
 * version (it grows with every change) is read every `intervalMs` and each listener of an agent
 * whose version moved is called. One query per tick however many runtimes listen; no query at
 * all while nobody does.
 */
import { killSwitchVersions } from '../db/agents';
import type { Db } from '../db/client';

type Listener = (version: number) => void;

export class StatusWatch {
  private readonly listeners = new Map<string, Set<Listener>>();
  private last: Map<string, number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly db: Db,
    private readonly intervalMs = 100,
  ) {}

  /** Calls `fn` with the new version each time the agent's kill-switch state changes. */
  subscribe(agentId: string, fn: Listener): () => void {
    const set = this.listeners.get(agentId) ?? new Set<Listener>();
    set.add(fn);
    this.listeners.set(agentId, set);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs).unref();
      void this.tick(); // the baseline, read now: a change from here on is noticed
    }
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(agentId);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = await killSwitchVersions(this.db);
      const before = this.last;
      this.last = now;
      if (!before) return;
      for (const [agentId, set] of this.listeners) {
        const v = now.get(agentId);
        if (v !== undefined && v !== before.get(agentId)) for (const fn of set) fn(v);
      }
    } catch {
      // A DB hiccup (a closed handle at shutdown): the next tick reads again.
    } finally {
      this.ticking = false;
    }
  }
}
