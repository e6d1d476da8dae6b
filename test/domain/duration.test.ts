/**
 * The one duration format: playbooks, drill scenarios and the config file accept and reject the
 * same strings, and agree on their length.
 */
import { describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { Duration, durationMs } from '../../domain/duration';
import { Retry } from '../../domain/playbook';
import { DrillScenario } from '../../drills/schema';

describe('Duration', () => {
  it('parses each unit to milliseconds', () => {
    expect(['500ms', '30s', '15m', '2h', '1d'].map(durationMs)).toEqual([
      500, 30_000, 900_000, 7_200_000, 86_400_000,
    ]);
    expect(() => durationMs('1.5h')).toThrow(/use a duration like 30s/);
  });

  it('is the same schema in playbooks, drills and the config file', () => {
    for (const bad of ['15', '1.5h', '2 h', '3w', '']) {
      expect(Duration.safeParse(bad).success).toBe(false);
      expect(Retry.safeParse({ backoff: bad }).success).toBe(false);
      const drill = DrillScenario.safeParse({
        id: 'd',
        title: 'd',
        playbook: 'p',
        alerts: [{ title: 'a' }],
        expectations: [{ id: 'e', type: 'outcome', outcome: 'completed' }],
        time_limit: bad,
      });
      expect(drill.success).toBe(false);
      expect(() => parseFileConfig({ rules: [{ group_by: 'agent_id', window: bad }] }, {}, 'cfg')).toThrow(
        /window/,
      );
    }
    const rule = parseFileConfig({ rules: [{ group_by: 'agent_id', window: '15m' }] }, {}, 'cfg').rules[0];
    expect(rule?.window).toBe(durationMs('15m'));
    const seconds = parseFileConfig({ rules: [{ group_by: 'agent_id', window: 90 }] }, {}, 'cfg').rules[0];
    expect(seconds?.window).toBe(90_000);
  });
});
