// Scopes own the tensors created inside them: when `tidy(fn)` returns, every tensor fn created is released
// (its buffer goes back to the pool) except those it returns and those marked with `keep`. A training step
// wrapped in tidy therefore leaves the heap as it found it.
import type { Tensor } from './tensor.ts';

interface Scope {
  tensors: Tensor[];
}

const stack: Scope[] = [];

/** Registers a newly created tensor with the innermost scope, if any. */
export function trackTensor(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (top) top.tensors.push(t);
}

export function inScope(): boolean {
  return stack.length > 0;
}

/** Marks a tensor (and keeps its buffer) as surviving every enclosing scope. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

function collectTensors(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ((value as { isTensor?: boolean }).isTensor === true) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? value.values() : Object.values(value);
    for (const v of values) collectTensors(v, out, depth + 1);
  }
}

/**
 * Runs fn and releases every tensor it created, except the tensors in its result (found in arrays, plain
 * objects and maps up to four levels deep), which move to the enclosing scope. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: [] };
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of scope.tensors) if (!t.kept) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) {
    throw new Error('tidy: the function returned a Promise; scopes only cover synchronous work');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  // A returned tensor that still has a gradient graph keeps that graph alive, so backward can run later.
  const pending = [...survivors];
  while (pending.length > 0) {
    const node = pending.pop()!.node;
    if (!node) continue;
    for (const t of [...node.inputs, ...node.saved, ...node.outputs]) {
      if (!survivors.has(t)) {
        survivors.add(t);
        pending.push(t);
      }
    }
  }
  const parent = stack[stack.length - 1];
  for (const t of scope.tensors) {
    if (survivors.has(t) || t.kept) {
      if (parent && !t.kept) parent.tensors.push(t);
    } else {
      t.dispose();
    }
  }
  return result;
}
