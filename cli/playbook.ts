/**
 * `playbook` commands: `lint <file…>` (every problem as `file:line:col message`, non-zero exit
 * when any; with `--connectors`, also every containment step that the connectors configured here
 * (environment, FIREBREAK_CONFIG, and the inventory in DATA_DIR) cannot run), `show <file>` (outline of phases, steps and gates), `graph <file>` (Mermaid
 * flowchart) and `schema` (writes playbooks/playbook.schema.json, the editors' JSON Schema,
 * generated from the zod schema).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../app/config';
import { connectorCoverageWithInventory } from '../connectors/coverage';
import { closeDb } from '../db/client';
import type { ConnectorCoverage } from '../domain/connector-coverage';
import { playbookJsonSchema, type Playbook } from '../domain/playbook';
import { checkConnectors } from '../playbooks/connector-check';
import { lintSource } from '../playbooks/lint';
import { BUILTIN_PLAYBOOK_DIR } from '../playbooks/loader';
import { openCliDb } from './db';
import { mermaid, outline } from './playbook-render';

export const SCHEMA_FILE = path.join(BUILTIN_PLAYBOOK_DIR, 'playbook.schema.json');

export function schemaText(): string {
  return `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`;
}

/**
 * Lints files; returns the lines to print and whether all were clean. With `coverage`, the
 * containment steps those connectors cannot run count as problems too.
 */
export function lintFiles(files: string[], coverage?: ConnectorCoverage): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (err) {
      lines.push(`${file}:1:1 cannot read file: ${(err as Error).message}`);
      continue;
    }
    for (const p of lintSource(source).problems) lines.push(`${file}:${p.line}:${p.col} ${p.message}`);
    if (coverage)
      for (const p of checkConnectors(source, coverage))
        lines.push(`${file}:${p.line}:${p.col} ${p.message}`);
  }
  return { lines, ok: lines.length === 0 };
}

function loadValid(file: string): Playbook {
  const { problems, definition } = lintSource(fs.readFileSync(file, 'utf8'));
  if (!definition || problems.length > 0) {
    for (const p of problems) console.error(`${file}:${p.line}:${p.col} ${p.message}`);
    process.exit(1);
  }
  return definition;
}

/** What this install's connectors (and its inventory) cover, from the same config the server reads. */
async function configuredCoverage(): Promise<ConnectorCoverage> {
  const config = loadConfig();
  const db = await openCliDb();
  try {
    return await connectorCoverageWithInventory(config.connectors, db);
  } finally {
    await closeDb(db);
  }
}

export function registerPlaybookCommands(program: Command): void {
  const pb = program.command('playbook').description('Lint, inspect and document playbooks');
  pb.command('lint')
    .argument('<files...>', 'playbook YAML files')
    .option('--connectors', 'also check containment steps against the connectors configured here')
    .description('Validate playbooks; prints file:line:col message per problem')
    .action(async (files: string[], opts: { connectors?: boolean }) => {
      const coverage = opts.connectors ? await configuredCoverage() : undefined;
      const { lines, ok } = lintFiles(files, coverage);
      for (const l of lines) console.log(l);
      if (!ok) process.exitCode = 1;
      else console.error(`${files.length} playbook(s) OK`);
    });
  pb.command('show')
    .argument('<file>', 'playbook YAML file')
    .description('Print an outline of phases, steps and gates')
    .action((file: string) => console.log(outline(loadValid(file))));
  pb.command('graph')
    .argument('<file>', 'playbook YAML file')
    .description('Print the playbook as a Mermaid flowchart')
    .action((file: string) => console.log(mermaid(loadValid(file))));
  pb.command('schema')
    .option('--out <file>', 'where to write the JSON Schema', SCHEMA_FILE)
    .option('--stdout', 'print instead of writing')
    .description('Generate the JSON Schema for editors from the zod schema')
    .action((opts: { out: string; stdout?: boolean }) => {
      if (opts.stdout) process.stdout.write(schemaText());
      else {
        fs.writeFileSync(opts.out, schemaText());
        console.error(`wrote ${opts.out}`);
      }
    });
}
