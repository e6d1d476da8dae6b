/**
 * Keeps each enforcement point that holds a copy of Firebreak's state (OPA's data) holding every
 * agent of the inventory, not only those a kill-switch action has touched: such a point denies an
 * agent it holds no state for (fail closed), so agents must be written there before their
 * gateways ask, and again after the point loses its data (OPA keeps pushed data in memory: a
 * restart empties it). The worker runs `syncEnforcementPoints` at start
 * and then every interval; an action still writes its own change at once.
 */
import { listAgents } from '../db/agents';
import type { Db } from '../db/client';
import { killSwitchStateOf, type EnforcementPoint } from './enforcement-point';

export interface SyncResult {
  point: string;
  changed?: number;
  error?: string;
}

/** Syncs the points that keep a copy of Firebreak's state (those with `applyAll`). */
export async function syncEnforcementPoints(db: Db, points: EnforcementPoint[]): Promise<SyncResult[]> {
  const copies = points.filter((p) => p.applyAll);
  if (copies.length === 0) return [];
  const states = (await listAgents(db)).map(killSwitchStateOf);
  return Promise.all(
    copies.map(async (p) => {
      try {
        return { point: p.name, changed: (await p.applyAll!(states)).changed };
      } catch (err) {
        return { point: p.name, error: (err as Error).message };
      }
    }),
  );
}

/** Syncs now and every `intervalMs` until stopped; failures go to `onError` (the next run retries). */
export function startEnforcementSync(
  db: Db,
  points: EnforcementPoint[],
  intervalMs: number,
  onError: (r: SyncResult) => void,
): { stop(): void } {
  if (!points.some((p) => p.applyAll)) return { stop: () => undefined };
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      for (const r of await syncEnforcementPoints(db, points)) if (r.error) onError(r);
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
