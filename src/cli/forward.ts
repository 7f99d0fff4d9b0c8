// `olmo forward`: one forward pass on token ids, writing logits and hidden states as safetensors (the same
// names as the transformers fixtures) so numerics can be compared with other implementations.
import { readFileSync } from 'node:fs';
import {
  openSafetensors,
  saveSafetensors,
  type TensorToWrite,
  noGrad,
  tensor,
  tidy,
  readConfig,
  assertFits,
  estimateMemory,
} from '../index.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { loadInferenceModel, resolveModelArg } from './model-loading.ts';

function readInputIds(path: string): { ids: Int32Array; shape: [number, number] } {
  if (path.endsWith('.safetensors')) {
    const f = openSafetensors(path);
    try {
      if (!f.has('input_ids')) throw new UsageError(`olmo forward: ${path} has no tensor named input_ids`);
      const info = f.info('input_ids');
      const shape = info.shape.length === 1 ? [1, info.shape[0]] : info.shape;
      if (shape.length !== 2)
        throw new UsageError(`olmo forward: ${path}: input_ids must be [batch, seq], got [${info.shape}]`);
      return { ids: f.readInt32('input_ids'), shape: shape as [number, number] };
    } finally {
      f.close();
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`olmo forward: ${path} is neither .safetensors nor valid JSON (${(err as Error).message})`);
  }
  const rows = (json as { input_ids?: unknown }).input_ids ?? json;
  const batch = Array.isArray(rows) && rows.every((r) => typeof r === 'number') ? [rows] : rows;
  if (
    !Array.isArray(batch) ||
    batch.length === 0 ||
    !batch.every(
      (r) => Array.isArray(r) && r.length === batch[0].length && r.every((x: unknown) => Number.isInteger(x)),
    )
  ) {
    throw new UsageError(`olmo forward: ${path} must hold input_ids as a list of equal-length lists of integers`);
  }
  return { ids: Int32Array.from((batch as number[][]).flat()), shape: [batch.length, (batch[0] as number[]).length] };
}

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'run a forward pass on token ids and save logits and hidden states',
  usage: `olmo forward --model DIR|ID --input FILE --output FILE.safetensors

  --model DIR|ID  checkpoint folder (olmo, olmo2, olmoe), or hub id owner/name[@revision]
  --input FILE    token ids: a .safetensors file with input_ids [batch, seq] (any integer dtype),
                  or JSON: [[ids...], ...] or {"input_ids": [[...]]}
  --output FILE   writes input_ids (I64), logits [batch, seq, vocab], hidden_states.0..L (embeddings,
                  each block's output, the final norm's output last) and, for OLMoE, router_logits.i`,
  async run(argv) {
    const { values } = parseCommandArgs('forward', {
      args: argv,
      options: { model: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' } },
    });
    if (!values.input) throw new UsageError('olmo forward: --input FILE is required');
    if (!values.output) throw new UsageError('olmo forward: --output FILE.safetensors is required');
    const dir = await resolveModelArg('forward', values.model);
    const { ids, shape } = readInputIds(values.input);
    const config = readConfig(dir);
    if (shape[1] > config.maxPositionEmbeddings) {
      throw new UsageError(
        `olmo forward: ${values.input} has ${shape[1]} tokens per row, the model's context (max_position_embeddings in ${dir}/config.json) is ${config.maxPositionEmbeddings}`,
      );
    }
    // Logits [batch, seq, vocab] and every hidden state are kept: refuse before loading what cannot be held.
    assertFits(
      `olmo forward on ${shape[0]} × ${shape[1]} tokens`,
      estimateMemory(config, { batch: shape[0], tokens: shape[1], hiddenStates: true }),
    );
    const model = loadInferenceModel(dir);
    const out: Record<string, TensorToWrite> = {};
    noGrad(() =>
      tidy(() => {
        const result = model.forward(tensor(ids, shape, 'i32'), { outputHiddenStates: true });
        out.input_ids = { dtype: 'I64', shape, data: BigInt64Array.from(ids, (x) => BigInt(x)) };
        out.logits = { dtype: 'F32', shape: result.logits.shape, data: result.logits.f32().slice() };
        result.hiddenStates.forEach(
          (h, i) => (out[`hidden_states.${i}`] = { dtype: 'F32', shape: h.shape, data: h.f32().slice() }),
        );
        result.moe.forEach(
          (m, i) =>
            (out[`router_logits.${i}`] = {
              dtype: 'F32',
              shape: m.routerLogits.shape,
              data: m.routerLogits.f32().slice(),
            }),
        );
      }),
    );
    saveSafetensors(values.output, out);
    console.log(
      `wrote ${Object.keys(out).length} tensors to ${values.output} (logits [${shape[0]}, ${shape[1]}, ${model.config.vocabSize}])`,
    );
    return 0;
  },
};
