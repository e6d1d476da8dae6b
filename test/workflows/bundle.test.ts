/**
 * The workflow bundle stays small: the SDK evaluates a bundle's modules again for every new
 * workflow (per-workflow module isolation), so a heavy import such as zod costs every incident's
 * first workflow task. Workflows read domain/action-catalog.ts and playbooks/step-tree.ts instead.
 */
import fs from 'node:fs';
import { describe, expect, inject, it } from 'vitest';

describe('workflow bundle', () => {
  it('contains no zod and no schema module', () => {
    const code = fs.readFileSync(inject('workflowBundlePath'), 'utf8');
    const modules = new Set(code.match(/"\.\/[^"]+\.(?:ts|js|cjs|mjs)"/g) ?? []);
    expect(modules.size).toBeGreaterThan(10);
    expect([...modules].filter((m) => m.includes('node_modules/zod/'))).toEqual([]);
    expect(modules).not.toContain('"./playbooks/schema.ts"');
    expect(modules).not.toContain('"./domain/actions.ts"');
    expect(modules).toContain('"./workflows/run-incident.ts"');
  });
});
