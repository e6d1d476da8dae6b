import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, schemaText } from '../../cli/playbook';
import { loadPlaybookDir, pinPlaybook, PlaybookError, sha256 } from '../../playbooks/loader';
import { selectPlaybook } from '../../playbooks/select';

const builtins = loadPlaybookDir();
const subject = { severity: 'high' as const, source: 'siem', title: 'Agent key on paste site', labels: {} };

describe('playbook loading and selection', () => {
  it('pins each built-in with the sha256 of its source', () => {
    expect(builtins.map((p) => p.id)).toEqual([
      'agent-anomalous-behavior',
      'agent-api-unauthorized-access',
      'agent-config-tampering',
      'agent-credential-leak',
      'triage',
    ]);
    for (const p of builtins) expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    const src = fs.readFileSync(
      new URL('../../playbooks/agent-credential-leak.yaml', import.meta.url),
      'utf8',
    );
    expect(builtins.find((p) => p.id === 'agent-credential-leak')!.hash).toBe(sha256(src));
  });

  it('selects by the incident class label, and nothing for an unlabelled alert', () => {
    const classes = {
      credential_leak: 'agent-credential-leak',
      agent_anomaly: 'agent-anomalous-behavior',
      config_tampering: 'agent-config-tampering',
      api_unauthorized_access: 'agent-api-unauthorized-access',
    };
    for (const [label, id] of Object.entries(classes)) {
      expect(selectPlaybook(builtins, { ...subject, labels: { incident_class: label } })?.id).toBe(id);
    }
    expect(selectPlaybook(builtins, subject)).toBeUndefined();
  });

  it('prefers the most specific match', () => {
    const general = pinPlaybook(
      `id: general\nversion: 1\ntitle: g\nmatch: { severities: [high] }\nphases: {}\n`,
    );
    const specific = pinPlaybook(
      `id: specific\nversion: 1\ntitle: s\nmatch: { severities: [high], title_contains: [paste] }\nphases: {}\n`,
    );
    expect(selectPlaybook([general, specific], subject)?.id).toBe('specific');
    expect(selectPlaybook([general, specific], { ...subject, title: 'other' })?.id).toBe('general');
    expect(selectPlaybook([general, specific], { ...subject, severity: 'low' })).toBeUndefined();
  });

  it('refuses an invalid playbook, listing its problems with positions', () => {
    expect(() =>
      pinPlaybook('id: x\nversion: 1\ntitle: t\nphases:\n  assess:\n    - { id: a, kind: nope }\n', 'x.yaml'),
    ).toThrow(PlaybookError);
    try {
      pinPlaybook(
        'id: x\nversion: 1\ntitle: t\nphases:\n  assess:\n    - { id: a, kind: notify }\n',
        'x.yaml',
      );
    } catch (err) {
      expect((err as Error).message).toMatch(/x\.yaml:6:7 phases\.assess\.0\.message/);
    }
  });

  it('the committed JSON Schema is the one the zod schema generates', () => {
    expect(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(schemaText()));
  });
});
