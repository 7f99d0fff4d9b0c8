// Modules hold parameters under the dotted names Hugging Face checkpoints use, so loading and saving is a
// name-for-name copy.
import type { Tensor } from '../tensor/index.ts';

export abstract class Module {
  private readonly ownParams = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    this.ownParams.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Replaces a parameter (when loading weights): same name, same shape. */
  setParam(name: string, t: Tensor): void {
    const dot = name.indexOf('.');
    if (dot >= 0) {
      const head = name.slice(0, dot);
      const child = this.children.get(head);
      if (!child) throw new Error(`no submodule '${head}' for parameter '${name}'`);
      child.setParam(name.slice(dot + 1), t);
      return;
    }
    const old = this.ownParams.get(name);
    if (!old) throw new Error(`no parameter '${name}'`);
    if (old.shape.join() !== t.shape.join()) {
      throw new Error(`parameter '${name}' has shape [${old.shape}], got [${t.shape}]`);
    }
    this.ownParams.set(name, t);
  }

  /** A parameter by its local name (layers read their weights through this, so replacements are seen). */
  protected get(name: string): Tensor {
    const t = this.ownParams.get(name);
    if (!t) throw new Error(`no parameter '${name}'`);
    return t;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [name, t] of this.ownParams) yield [prefix + name, t];
    for (const [name, m] of this.children) yield* m.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }
}
