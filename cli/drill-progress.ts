/**
 * What `drill run` shows while a drill plays: at the start, how long the scenario takes at this
 * speed; then each inject, decision and step as it lands on the incident timeline (followed through
 * `GET /v1/incidents/:id/timeline` with its cursor, on the server or on the embedded stack alike).
 * On a terminal a status line under the events shows the scenario clock; otherwise (CI, a pipe)
 * the events are plain lines.
 */
import { durationMs } from '../domain/duration';
import type { DrillScenario } from '../drills/schema';

/** `90000` → `1m 30s`; sub-second values keep one decimal. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms / 100) / 10}s`;
  const s = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, u]) => `${n}${u}`)
      .join(' ') || '0s'
  );
}

/** The opening line: the MSEL's length and the time limit, in scenario and in wall-clock time. */
export function describeTiming(scenario: DrillScenario, speed: number): string {
  const mselMs = Math.max(0, ...scenario.injects.map((i) => durationMs(i.at)));
  const limitMs = durationMs(scenario.time_limit);
  const at = speed === 1 ? 'in real time (speed 1)' : `at speed ${speed}`;
  const lines = [
    `Drill ${scenario.id} plays ${at}: its injects span ${formatMs(mselMs)} of scenario time ` +
      `(${formatMs(mselMs / speed)} here); it ends when the playbook has finished and every inject has been ` +
      `played, and at the latest at its time limit of ${formatMs(limitMs)} (${formatMs(limitMs / speed)} here).`,
  ];
  if (speed === 1 && mselMs >= 60_000)
    lines.push(`Pass --speed N to play it N times faster (e.g. --speed 60: one scenario minute per second).`);
  return lines.join('\n');
}

export interface TimelineEvent {
  id: number;
  at: string;
  kind: string;
  actor: string;
  message: string;
}

/** The view: event lines, and on a TTY a status line kept at the bottom. */
export class ProgressView {
  private status = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  private get live(): boolean {
    return this.out.isTTY === true;
  }

  line(text: string): void {
    if (this.live && this.status) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    if (this.live && this.status) this.out.write(this.status);
  }

  setStatus(text: string): void {
    if (!this.live) return;
    this.status = text;
    this.out.write(`\r\x1b[2K${text}`);
  }

  done(): void {
    if (this.live && this.status) this.out.write('\r\x1b[2K');
    this.status = '';
  }
}

/** One timeline event as a progress line: scenario time since the start, kind, message. */
export function eventLine(e: TimelineEvent, startedAt: number, speed: number): string {
  const scenarioMs = Math.max(0, Date.parse(e.at) - startedAt) * speed;
  return `  T+${formatMs(scenarioMs).padEnd(8)} ${e.kind.padEnd(22)} ${e.message}`;
}

export interface FollowOptions {
  url: string;
  token: string;
  incidentId: string;
  /** When the drill started (ms since the epoch): T+0 of the scenario clock. */
  startedAt: number;
  speed: number;
  view: ProgressView;
  /** Between polls of the timeline. */
  intervalMs?: number;
}

/**
 * Follows the incident's timeline until stop(): every new event becomes a line, and stop() prints
 * those that landed since the last poll, so the list is complete when the report follows.
 */
export function followTimeline(opts: FollowOptions): { stop(): Promise<void> } {
  const { startedAt } = opts;
  let cursor: string | undefined;
  let stopped = false;
  let refused = false;
  const poll = async (): Promise<void> => {
    for (;;) {
      const q = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${opts.url}/v1/incidents/${opts.incidentId}/timeline?${q}`, {
        headers: { authorization: `Bearer ${opts.token}` },
      }).catch(() => undefined);
      if (res?.status === 403 && !refused) {
        refused = true;
        opts.view.line('  (no live progress: the token lacks the read scope the timeline needs)');
      }
      if (!res?.ok) return;
      const page = (await res.json()) as { events: TimelineEvent[]; next_cursor: string | null };
      for (const e of page.events) {
        opts.view.line(eventLine(e, startedAt, opts.speed));
        cursor = String(e.id);
      }
      if (!page.next_cursor) return;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      const scenarioMs = (Date.now() - startedAt) * opts.speed;
      opts.view.setStatus(
        `  … scenario time T+${formatMs(scenarioMs)} (wall ${formatMs(Date.now() - startedAt)})`,
      );
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await poll();
      opts.view.done();
    },
  };
}
