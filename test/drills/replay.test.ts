/**
 * `drill replay`: a past live incident's stored alerts become a drill scenario: the first opens it,
 * later ones are alert injects at their original offsets, and its playbook is the one it named.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../db/client';
import type { Alert } from '../../domain/alert';
import { scenarioFromIncident } from '../../drills/replay';
import { storeAlert } from '../../intake/store';

const alert = (title: string, at: string): Alert => ({
  format: 'generic',
  source: 'siem',
  origin: 'siem',
  dedupKey: title,
  title,
  severity: 'high',
  status: 'firing',
  agentId: 'ops-agent',
  labels: { incident_class: 'config_tampering' },
  details: {},
  occurredAt: at,
});

describe('scenarioFromIncident', () => {
  it('turns stored alerts into the opening alert and timed alert injects', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-replay-'));
    const db = openDb(path.join(dir, 'firebreak.db'));
    try {
      const t0 = '2026-01-01T00:00:00.000Z';
      const t1 = '2026-01-01T00:04:30.000Z';
      const first = await storeAlert(db, alert('Prompt changed', t0), { receivedAt: t0, key: 'k1' });
      await storeAlert(db, alert('Tools changed', t1), { receivedAt: t1, key: 'k1' });
      const s = await scenarioFromIncident(db, first.incidentId!);
      expect(s.playbook).toBe('agent-config-tampering');
      expect(s.alerts.map((a) => a.title)).toEqual(['Prompt changed']);
      expect(s.injects).toEqual([
        expect.objectContaining({
          type: 'alert',
          at: '270s',
          alert: expect.objectContaining({ title: 'Tools changed' }),
        }),
      ]);
      await expect(scenarioFromIncident(db, 'inc-nope')).rejects.toThrow(/no incident inc-nope/);
    } finally {
      db.$client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
