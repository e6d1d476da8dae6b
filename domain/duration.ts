/**
 * Durations as people write them in playbooks, drill scenarios and the config file: a whole number
 * and a unit, `500ms`, `30s`, `15m`, `2h`, `1d`. One schema validates them everywhere (and documents
 * them in playbook.schema.json) and one parser turns them into milliseconds. Pure: workflows may
 * import it.
 */
import { z } from 'zod';

const FORMAT = /^\d+(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const Duration = z
  .string()
  .regex(FORMAT, 'use a duration like 30s, 15m, 2h or 1d')
  .describe('Duration such as 30s, 15m, 2h, 1d');
export type Duration = z.infer<typeof Duration>;

/** Milliseconds in `d`; throws on anything `Duration` rejects. */
export function durationMs(d: string): number {
  if (!FORMAT.test(d))
    throw new Error(`bad duration ${JSON.stringify(d)}: use a duration like 30s, 15m, 2h or 1d`);
  return Number.parseInt(d, 10) * UNIT_MS[d.replace(/^\d+/, '') as keyof typeof UNIT_MS];
}

/** A duration, or a plain number of seconds (YAML config), parsed to milliseconds. */
export const DurationOrSecondsMs = z.union([
  z
    .number()
    .positive()
    .transform((s) => s * 1000),
  Duration.transform(durationMs),
]);
