// S-expression reader with positions, following the official tokenisation: `;` comments run to the end of
// the line, everything is lower-cased, tokens are `(`, `)` or maximal runs of non-space, non-paren characters.

import { PddlParseError, type SourcePos } from './errors.ts';

export interface SAtom {
  kind: 'atom';
  value: string;
  line: number;
  column: number;
}

export interface SList {
  kind: 'list';
  items: SExpr[];
  line: number; // position of '('
  column: number;
  endLine: number; // position of ')'
  endColumn: number;
}

export type SExpr = SAtom | SList;

export function describe(e: SExpr | undefined): string {
  if (e === undefined) return 'end of list';
  if (e.kind === 'atom') return `'${e.value}'`;
  if (e.items.length === 0) return '()';
  const head = e.items[0];
  return head.kind === 'atom' ? `a list starting with '${head.value}'` : 'a nested list';
}

export function posOf(e: SExpr): SourcePos {
  return { line: e.line, column: e.column };
}

/** Tokenises and reads exactly one top-level s-expression, as the official scanner does. */
export function readSExpr(text: string, source = '<input>'): SExpr {
  const stack: SList[] = [];
  const top: SExpr[] = [];
  let cur: SExpr[] = top;
  let line = 1;
  let col = 1;
  const n = text.length;
  let i = 0;
  let inComment = false;
  let lastPos: SourcePos = { line: 1, column: 1 };
  while (i < n) {
    const ch = text[i];
    if (ch === '\n') {
      inComment = false;
      i++;
      line++;
      col = 1;
      continue;
    }
    if (inComment) {
      i++;
      col++;
      continue;
    }
    if (ch === ';') {
      inComment = true;
      i++;
      col++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      col++;
      continue;
    }
    if (ch === '(') {
      const l: SList = { kind: 'list', items: [], line, column: col, endLine: line, endColumn: col };
      cur.push(l);
      stack.push(l);
      cur = l.items;
      i++;
      col++;
      continue;
    }
    if (ch === ')') {
      const l = stack.pop();
      if (!l) {
        throw new PddlParseError({
          source,
          pos: { line, column: col },
          expected: "an expression (this ')' has no matching '(')",
          found: "')'",
          pyClass: 'ValueError',
          officialMessage: 'Missing open parentheses',
        });
      }
      l.endLine = line;
      l.endColumn = col;
      cur = stack.length ? stack[stack.length - 1].items : top;
      lastPos = { line, column: col };
      i++;
      col++;
      continue;
    }
    const startCol = col;
    let j = i;
    while (j < n) {
      const c = text[j];
      if (c === '(' || c === ')' || c === ';' || /\s/.test(c)) break;
      j++;
    }
    cur.push({ kind: 'atom', value: text.slice(i, j).toLowerCase(), line, column: startCol });
    lastPos = { line, column: startCol };
    col += j - i;
    i = j;
  }
  if (stack.length) {
    const open = stack[stack.length - 1];
    throw new PddlParseError({
      source,
      pos: { line, column: col },
      expected: `')' to close the '(' opened at ${open.line}:${open.column}`,
      found: 'end of input',
      pyClass: 'ValueError',
      officialMessage: 'Missing close parentheses',
    });
  }
  if (top.length !== 1) {
    const at = top.length === 0 ? lastPos : posOf(top[1]);
    throw new PddlParseError({
      source,
      pos: at,
      expected: 'exactly one top-level expression',
      found: top.length === 0 ? 'no expression' : `${top.length} top-level expressions`,
      pyClass: 'ValueError',
      officialMessage: 'Malformed expression',
    });
  }
  return top[0];
}
