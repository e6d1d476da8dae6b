/**
 * Maps a path inside a playbook (as zod and the linter name it) back to a line and column in the
 * YAML source, using eemeli/yaml's document model and LineCounter, so that every lint problem
 * can be reported as `file:line:col message`.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface Problem {
  line: number;
  col: number;
  message: string;
}

export interface SourceDoc {
  doc: Document;
  lineCounter: LineCounter;
  /** Problems of the YAML itself (syntax, duplicate keys). */
  problems: Problem[];
}

export function parseSource(source: string): SourceDoc {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { line: pos.line, col: pos.col, message: e.message.split('\n')[0]! };
  });
  return { doc, lineCounter, problems };
}

export type Path = (string | number)[];

/** The node at `path`, or its nearest existing ancestor; `key` points at a map key instead. */
export function locate(src: SourceDoc, path: Path, opts: { key?: string; offset?: number } = {}): Problem {
  let node: unknown;
  for (let n = path.length; n >= 0; n--) {
    node = n === 0 ? src.doc.contents : src.doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object') break;
  }
  let offset = (node as Node | undefined)?.range?.[0] ?? 0;
  if (opts.key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === opts.key);
    const keyNode = pair?.key as Node | undefined;
    if (keyNode?.range) offset = keyNode.range[0];
  } else if (opts.offset !== undefined && isScalar(node)) {
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    offset += opts.offset + (quoted ? 1 : 0);
  }
  const pos = src.lineCounter.linePos(offset);
  return { line: pos.line, col: pos.col, message: '' };
}

export function problemAt(
  src: SourceDoc,
  path: Path,
  message: string,
  opts: { key?: string; offset?: number } = {},
): Problem {
  return { ...locate(src, path, opts), message };
}
