/**
 * The drill progress view: the opening timing line at a given speed, and on a terminal a status
 * line that event lines are printed above (without a terminal: event lines only).
 */
import { describe, expect, it } from 'vitest';
import { describeTiming, formatMs, ProgressView } from '../../cli/drill-progress';
import { loadScenarioFile } from '../../drills/lint';

function stream(isTTY: boolean) {
  let text = '';
  const out = { isTTY, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => text };
}

describe('drill progress', () => {
  it('says how long the scenario takes at this speed, and how to go faster in real time', () => {
    const scenario = loadScenarioFile('drills/agent-config-tampering.yaml');
    expect(describeTiming(scenario, 60)).toMatch(/at speed 60: .*span 6m of scenario time \(6s here\)/);
    const realTime = describeTiming(scenario, 1);
    expect(realTime).toMatch(
      /in real time \(speed 1\): .*span 6m .*\(6m here\).*time limit of 8h \(8h here\)/,
    );
    expect(realTime).toContain('--speed N');
    expect([450, 90_000, 3_725_000].map(formatMs)).toEqual(['0.5s', '1m 30s', '1h 2m 5s']);
  });

  it('keeps a status line under the events on a terminal, and prints plain lines otherwise', () => {
    const tty = stream(true);
    const live = new ProgressView(tty.out);
    live.setStatus('T+1m');
    live.line('event');
    live.done();
    expect(tty.text()).toBe('\r\x1b[2KT+1m\r\x1b[2Kevent\nT+1m\r\x1b[2K');

    const pipe = stream(false);
    const plain = new ProgressView(pipe.out);
    plain.setStatus('T+1m');
    plain.line('event');
    plain.done();
    expect(pipe.text()).toBe('event\n');
  });
});
