/**
 * The README's "May import" table is enforced by `npm run lint`: each case lints a real file of a
 * folder with one extra import that the table forbids (or allows), through the project's own
 * ESLint config, and checks what the boundary rule says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** Rule ids reported for `file` when `line` is added at its top. */
async function rulesWith(file: string, line: string): Promise<string[]> {
  const source = fs.readFileSync(path.join(root, file), 'utf8');
  const [result] = await eslint.lintText(`${line}\nexport const probe = 1;\n${source}`, {
    filePath: path.join(root, file),
  });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it.each([
    ['domain/alert.ts', "import type { Db } from '../db/client';"],
    ['db/timeline.ts', "import type { Outbox } from '../intake/outbox';"],
    ['activities/actions.ts', "import { createApp } from '../api/app';"],
    ['connectors/aws-iam.ts', "import { createActivities } from '../activities';"],
    ['intake/outbox.ts', "import { drillStartOptions } from '../drills/store';"],
    ['slack/receiver.ts', "import { createActivities } from '../activities';"],
    ['playbooks/loader.ts', "import type { Db } from '../db/client';"],
  ])('%s may not add %s', async (file, line) => {
    expect(await rulesWith(file, line)).toContain('import-x/no-restricted-paths');
  });

  it('workflows/ may not reach the database', async () => {
    expect(await rulesWith('workflows/messages.ts', "import type { Db } from '../db/client';")).toContain(
      'no-restricted-imports',
    );
  });

  it('an import the table allows is not reported', async () => {
    const rules = await rulesWith('api/routes/evidence.ts', "import type { Db } from '../../db/client';");
    expect(rules).not.toContain('import-x/no-restricted-paths');
  });
});
