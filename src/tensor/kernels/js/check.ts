// Argument checks shared by the reference kernels: the same messages as the addon's ("js kernel: argument
// 'name' …"), so tests can hold both backends to one contract.

export function fail(kernel: string, msg: string): never {
  throw new TypeError(`js ${kernel}: ${msg}`);
}

export function checkSize(kernel: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    fail(kernel, `argument '${name}' must be a non-negative integer, got ${String(v)}`);
}

export function checkF32(kernel: string, name: string, a: unknown, need: number): void {
  if (!(a instanceof Float32Array)) fail(kernel, `argument '${name}' must be a Float32Array`);
  if (a.length < need) fail(kernel, `argument '${name}' has ${a.length} elements, needs at least ${need}`);
}

export function checkI32(kernel: string, name: string, a: unknown, need: number): void {
  if (!(a instanceof Int32Array)) fail(kernel, `argument '${name}' must be an Int32Array`);
  if (a.length < need) fail(kernel, `argument '${name}' has ${a.length} elements, needs at least ${need}`);
}
