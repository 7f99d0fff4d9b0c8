#!/usr/bin/env node
// Lists the functions, methods and arrow functions of src/ longer than a number of lines (default 120), longest
// first: `node scripts/longest-functions.mjs [--max N] [DIR]`. A function's length runs from the line of its
// first token (after any comment above it) to the line of its closing brace; nested functions are listed on
// their own and also count in their parent's length. test/architecture/function-length.test.ts uses
// `longFunctions` to hold src/ to the limit.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** A readable name for a function node: its own, or the variable, property or class member it is bound to. */
function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (
    parent &&
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
  ) {
    return parent.name.getText();
  }
  if (parent && ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

/** The enclosing class's name, for methods. */
function ownerOf(node) {
  for (let p = node.parent; p; p = p.parent) {
    if ((ts.isClassDeclaration(p) || ts.isClassExpression(p)) && p.name) return p.name.text;
  }
  return null;
}

/** Every function-like node with a body in one source text: { name, line (1-based), lines }. */
export function functionLengths(text, fileName = 'file.ts') {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const owner = ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) ? ownerOf(node) : null;
      const name = nameOf(node);
      out.push({ name: owner ? `${owner}.${name}` : name, line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Functions longer than `max` lines under `dir`, longest first, with paths relative to `root`. */
export function longFunctions(dir, max = 120, root = process.cwd()) {
  const out = [];
  for (const abs of walk(dir)) {
    const file = relative(root, abs).split(sep).join('/');
    for (const f of functionLengths(readFileSync(abs, 'utf8'), file)) {
      if (f.lines > max) out.push({ file, ...f });
    }
  }
  return out.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let max = 120;
  let dir = 'src';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--max') {
      max = Number(args[++i]);
      if (!Number.isInteger(max) || max < 1) {
        console.error(`longest-functions: --max takes a whole number of lines ≥ 1, got '${args[i]}'`);
        process.exit(2);
      }
    } else dir = args[i];
  }
  const long = longFunctions(resolve(dir), max);
  for (const f of long) console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
  console.log(`${long.length} function(s) over ${max} lines in ${dir}`);
}
