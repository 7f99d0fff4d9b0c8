// Model souping: the uniform average of the parameters of several checkpoints of one architecture (OLMo 2's
// final models average the checkpoints of several anneal runs).
import { loadModel, saveModel, type CausalLM } from '../models/index.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function soup(checkpoints: string[], out: string, opts: { dtype?: 'float32' | 'bfloat16' } = {}): CausalLM {
  if (checkpoints.length === 0) throw new Error('soup: give at least one checkpoint');
  const first = loadModel(checkpoints[0], { trainable: false });
  const sums = new Map<string, Float64Array>();
  for (const [name, p] of first.namedParameters()) sums.set(name, Float64Array.from(p.f32()));
  const shapeOf = new Map([...first.namedParameters()].map(([n, p]) => [n, p.shape.join('×')]));
  for (const dir of checkpoints.slice(1)) {
    const m = loadModel(dir, { trainable: false });
    if (m.config.modelType !== first.config.modelType) {
      throw new Error(`soup: ${dir} is a ${m.config.modelType} model, ${checkpoints[0]} is ${first.config.modelType}`);
    }
    const names = [...m.namedParameters()].map(([n]) => n);
    if (names.length !== sums.size)
      throw new Error(`soup: ${dir} has ${names.length} parameters, ${checkpoints[0]} has ${sums.size}`);
    for (const [name, p] of m.namedParameters()) {
      const acc = sums.get(name);
      if (!acc || shapeOf.get(name) !== p.shape.join('×')) {
        throw new Error(
          `soup: parameter ${name} of ${dir} has shape [${p.shape}], ${checkpoints[0]} has [${shapeOf.get(name) ?? 'none'}]`,
        );
      }
      const d = p.f32();
      for (let i = 0; i < d.length; i++) acc[i] += d[i];
    }
  }
  for (const [name, p] of first.namedParameters()) {
    const acc = sums.get(name)!;
    const d = p.f32();
    for (let i = 0; i < d.length; i++) d[i] = acc[i] / checkpoints.length;
  }
  const tokenizerFrom = checkpoints.find((c) => existsSync(join(c, 'tokenizer.json')));
  saveModel(first, out, { dtype: opts.dtype, tokenizerFrom });
  return first;
}
