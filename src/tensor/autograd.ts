// Reverse-mode automatic differentiation. Each op that produces a tensor from inputs that require grad
// records a GradNode on its outputs; backward() orders the recorded nodes (the tape) topologically and runs
// their backward functions from the loss down, summing gradients where a tensor feeds several ops and
// accumulating into the .grad of leaves (parameters).
import { kernels } from './backend.ts';
import { formatShape, ShapeError } from './shape.ts';
import { Tensor } from './tensor.ts';

export interface GradNode {
  readonly op: string;
  readonly inputs: Tensor[];
  /** Tensors the backward function reads besides inputs and outputs (kept alive by scopes). */
  readonly saved: Tensor[];
  readonly outputs: Tensor[];
  /** Gradients of the inputs (null where an input needs none) from the outputs' gradients (null: zero). */
  readonly backward: (gradOutputs: (Tensor | null)[]) => (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off (inference, reference models, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether an op on these inputs must record a node. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Records `outputs` as produced by an op over `inputs` when any input requires grad. Returns the outputs.
 */
export function record(
  op: string,
  inputs: Tensor[],
  outputs: Tensor[],
  backward: GradNode['backward'],
  saved: Tensor[] = [],
): void {
  if (!needsGrad(inputs)) return;
  const node: GradNode = { op, inputs, saved, outputs, backward };
  outputs.forEach((t, i) => {
    t.node = node;
    t.outputIndex = i;
    t.requiresGrad = true;
  });
}

function topoOrder(root: Tensor): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: { node: GradNode; next: number }[] = [];
  if (root.node) stack.push({ node: root.node, next: 0 });
  if (root.node) visited.add(root.node);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.inputs.length) {
      const child = top.node.inputs[top.next++].node;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order; // children before parents
}

/**
 * Back-propagates from `loss` (a one-element tensor, or any tensor with an explicit `gradOutput` of the same
 * shape) into every leaf that requires grad. The graph is freed afterwards.
 */
export function backward(loss: Tensor, gradOutput?: Tensor): void {
  if (!loss.requiresGrad) {
    throw new Error(
      `backward: ${loss.describe()} does not require grad (no parameter contributed to it, or noGrad was on)`,
    );
  }
  if (gradOutput === undefined && loss.size !== 1) {
    throw new ShapeError(
      `backward: loss has shape ${formatShape(loss.shape)}; pass a gradOutput or reduce it to one element`,
    );
  }
  if (gradOutput !== undefined && gradOutput.shape.join() !== loss.shape.join()) {
    throw new ShapeError(
      `backward: gradOutput shape ${formatShape(gradOutput.shape)} differs from loss shape ${formatShape(loss.shape)}`,
    );
  }
  const grads = new Map<Tensor, Tensor>();
  const seed = gradOutput ?? Tensor.empty(loss.shape, 'f32');
  if (!gradOutput) (seed.data as Float32Array).fill(1);
  if (!loss.node) {
    addLeafGrad(loss, seed);
    return;
  }
  grads.set(loss, seed);
  const order = topoOrder(loss);
  const k = kernels();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const gOut = node.outputs.map((t) => grads.get(t) ?? null);
    for (const t of node.outputs) grads.delete(t);
    if (gOut.every((g) => g === null)) continue;
    const gIn = noGrad(() => node.backward(gOut));
    node.inputs.forEach((input, j) => {
      const g = gIn[j];
      if (!g || !input.requiresGrad) return;
      if (g.shape.join() !== input.shape.join()) {
        throw new Error(
          `backward of ${node.op}: gradient ${formatShape(g.shape)} for input ${formatShape(input.shape)}`,
        );
      }
      if (!input.node) {
        addLeafGrad(input, g);
        return;
      }
      const prev = grads.get(input);
      if (prev) k.axpy(g.f32(), prev.f32(), g.size, 1);
      else grads.set(input, g);
    });
  }
  for (const node of order) for (const t of node.outputs) t.node = null;
}

function addLeafGrad(leaf: Tensor, g: Tensor): void {
  if (!leaf.grad) {
    leaf.grad = keepOutsideScopes(Tensor.fromStorage(leaf.shape, 'f32', new Float32Array(leaf.size)));
  }
  kernels().axpy(g.f32(), leaf.grad.f32(), g.size, 1);
}

function keepOutsideScopes(t: Tensor): Tensor {
  t.kept = true;
  return t;
}

/** Clears the gradients of the given parameters (sets them to zero, keeping the buffers). */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) if (p.grad) p.grad.f32().fill(0);
}
