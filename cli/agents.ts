/**
 * `agents import <file>`: loads the AI agent inventory from a YAML or JSON file, validated with the
 * same zod schema as `POST /v1/agents`, and upserts it (audited as `cli:<user>`). Problems are
 * reported as file:line:column so they can be fixed in the file; nothing is written unless the
 * whole file is valid. A stored agent keeps its status whatever the file says.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { LineCounter, parseDocument } from 'yaml';
import { AgentsImport, CredentialReassignment, upsertAgents, type StatusKept } from '../connectors/inventory';
import { closeDb, type Db } from '../db/client';
import { openCliDb } from './db';

export type ImportResult =
  | { ok: true; created: string[]; updated: string[]; status_kept: StatusKept[] }
  | { ok: false; errors: string[] };

/** Who runs the CLI, as the audit log names them. */
export function cliActor(): string {
  return `cli:${os.userInfo().username}`;
}

/**
 * Parses and validates `file` (YAML or JSON); on success upserts into `db` as `actor`. A credential
 * the file would move from one agent to another is reported at its line, and nothing is written.
 */
export async function importAgentsFile(
  db: Db,
  file: string,
  at = new Date().toISOString(),
  actor = cliActor(),
): Promise<ImportResult> {
  const text = fs.readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${where(e.pos[0])}: ${e.message.split('\n')[0]}`) };
  }
  const raw: unknown = doc.toJS();
  /** file:line:col of the node at `path` (as the schema sees it), or of its nearest ancestor. */
  const locate = (path: PropertyKey[]) => {
    const docPath = Array.isArray(raw) ? path.slice(1) : path;
    let node: unknown;
    for (let n = docPath.length; n >= 0 && !node; n--) {
      node = n === 0 ? doc.contents : doc.getIn(docPath.slice(0, n) as (string | number)[], true);
    }
    return where((node as { range?: [number, number, number] } | undefined)?.range?.[0]);
  };
  const parsed = AgentsImport.safeParse(Array.isArray(raw) ? { agents: raw } : raw);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map(
        (i) => `${locate(i.path)}: ${i.path.join('.') || '(file)'}: ${i.message}`,
      ),
    };
  }
  try {
    return { ok: true, ...(await upsertAgents(db, parsed.data.agents, at, actor)) };
  } catch (err) {
    if (!(err instanceof CredentialReassignment)) throw err;
    const path = ['agents', ...err.at.flatMap((n, k) => (k === 0 ? [n] : ['credentials', n])), 'id'];
    return { ok: false, errors: [`${locate(path)}: ${path.join('.')}: ${err.message}`] };
  }
}

export function registerAgentCommands(program: Command, open: () => Db | Promise<Db> = openCliDb): void {
  const agents = program.command('agents').description('AI agent inventory');
  agents
    .command('import')
    .description('import or update agents from a YAML or JSON file')
    .argument('<file>', 'YAML or JSON file with `agents: [...]`')
    .action(async (file: string) => {
      if (!fs.existsSync(file)) {
        console.error(`${file}: no such file`);
        process.exitCode = 2;
        return;
      }
      const db = await open();
      try {
        const r = await importAgentsFile(db, file);
        if (!r.ok) {
          for (const e of r.errors) console.error(e);
          console.error(`nothing imported: fix ${r.errors.length} problem(s) above`);
          process.exitCode = 1;
          return;
        }
        console.log(
          `imported ${r.created.length + r.updated.length} agent(s): ${r.created.length} new, ${r.updated.length} updated`,
        );
        for (const k of r.status_kept) {
          console.log(
            `${k.id}: stays ${k.status} (the file says ${k.declared}; an import never changes a stored status)`,
          );
        }
      } finally {
        await closeDb(db);
      }
    });
}
