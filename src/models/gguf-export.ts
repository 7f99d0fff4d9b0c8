// A model as a GGUF file llama.cpp runs: its architecture's metadata and tensor names (gguf-names.ts), the
// tokenizer (gguf-vocab.ts), and the weights as f32, f16, bf16 or q8_0, streamed from the loaded (memory-mapped)
// checkpoint one block of rows at a time. Refuses, before anything is written, what llama.cpp's graph for the
// architecture cannot represent (src/models/olmo.cpp, olmo2.cpp, olmoe.cpp in
// https://github.com/ggml-org/llama.cpp), naming the option or tensor.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GGML_QUANT_VERSION, LlamaFileType, type GgmlTypeName } from '../io/gguf/constants.ts';
import { packQ8_0 } from '../io/gguf/q8_0.ts';
import { kv, writeGguf, type GgufKv, type GgufTensorToWrite } from '../io/gguf/writer.ts';
import { arrayBytes, fromFloat32 } from '../io/dtypes.ts';
import { q8Parts, quantizeWeight, Q8_BLOCK, Tensor, widenRows } from '../tensor/index.ts';
import { loadModel, readConfig } from './checkpoint.ts';
import type { ModelConfig } from './config.ts';
import type { CausalLM } from './decoder.ts';
import {
  archKey,
  configKeysFor,
  hfToGguf,
  isGgufArch,
  PERMUTES_QK,
  TOKEN_ID_KEYS,
  type GgufArch,
} from './gguf-names.ts';
import { ExportRefusal } from './gguf-refusal.ts';
import { isGgufPath, openGguf } from './gguf-load.ts';
import { ggufVocab, ggufVocabOf } from './gguf-vocab.ts';

export { ExportRefusal } from './gguf-refusal.ts';

export const GGUF_DTYPES = ['f32', 'f16', 'bf16', 'q8_0'] as const;
export type GgufDType = (typeof GGUF_DTYPES)[number];

const GGML_OF: Record<GgufDType, GgmlTypeName> = { f32: 'F32', f16: 'F16', bf16: 'BF16', q8_0: 'Q8_0' };
const FILE_TYPE: Record<GgufDType, number> = {
  f32: LlamaFileType.ALL_F32,
  f16: LlamaFileType.MOSTLY_F16,
  bf16: LlamaFileType.MOSTLY_BF16,
  q8_0: LlamaFileType.MOSTLY_Q8_0,
};

export interface ExportGgufOptions {
  /** The checkpoint folder, or a .gguf file (re-exported with its own tokenizer unless `tokenizer` says otherwise). */
  model: string;
  /** The .gguf file to write (atomically: nothing appears there unless the export succeeds). */
  out: string;
  /** The matrices' type; default the checkpoint's own (f32, bf16, f16, or q8_0 for an olmo-ts q8_0 checkpoint). */
  dtype?: GgufDType;
  /** Folder with tokenizer.json; default the model folder's (or a GGUF model's own); null writes no tokenizer. */
  tokenizer?: string | null;
  /** general.name; default the model folder's name. */
  name?: string;
}

export interface ExportGgufResult {
  out: string;
  bytes: number;
  arch: GgufArch;
  dtype: GgufDType;
  tensors: number;
  /** tokenizer.ggml.pre, or null when the file carries no tokenizer. */
  preTokenizer: string | null;
}

/** Exports a checkpoint folder (or GGUF file) to GGUF, reading its weights as stored (mapped, nothing widened). */
export async function exportGguf(opts: ExportGgufOptions): Promise<ExportGgufResult> {
  checkRepresentable(readConfig(opts.model)); // before reading any weight
  const model = loadModel(opts.model, { weights: 'stored', verify: 'size' });
  const gguf = isGgufPath(opts.model);
  const own = !gguf && existsSync(join(opts.model, 'tokenizer.json')) ? opts.model : null;
  const source = gguf ? openGguf(opts.model) : null;
  const carried = source && opts.tokenizer === undefined ? ggufVocabOf(source) : null;
  const sourceName = source?.metadata.get('general.name');
  const name = opts.name ?? (typeof sourceName === 'string' ? sourceName : basename(resolve(opts.model)));
  if (carried) return writeModelGguf(model, opts.out, { dtype: opts.dtype, vocab: carried, name });
  // llama.cpp aborts the process (an assertion, not an error) when it loads a GGUF without a tokenizer, so one is
  // written only when asked for explicitly (tokenizer: null)
  if (opts.tokenizer === undefined && own === null)
    throw new ExportRefusal(
      `${opts.model} has no tokenizer.json, and llama.cpp cannot load a GGUF without a tokenizer; ` +
        `name a folder with tokenizer.json (--tokenizer DIR), or --tokenizer none to write the file for olmo-ts only`,
    );
  const tokenizer = opts.tokenizer !== undefined ? opts.tokenizer : own;
  return writeModelGguf(model, opts.out, {
    dtype: opts.dtype,
    tokenizer,
    name,
  });
}

/** The checkpoint's own matrix type: that of its embedding. */
function ownDType(model: CausalLM): GgufDType {
  const d = [...model.namedParameters()].find(([n]) => n === 'model.embed_tokens.weight')?.[1].dtype;
  return d === 'q8_0' ? 'q8_0' : d === 'bf16' ? 'bf16' : d === 'f16' ? 'f16' : 'f32';
}

/** Writes a loaded model (any weight mode) as GGUF; see ExportGgufOptions. */
export function writeModelGguf(
  model: CausalLM,
  out: string,
  opts: {
    dtype?: GgufDType;
    tokenizer?: string | null;
    /** The tokenizer's keys as they are (from another GGUF file: ggufVocabOf), instead of `tokenizer`. */
    vocab?: { entries: [string, GgufKv][]; pre: string };
    name?: string;
  } = {},
): ExportGgufResult {
  const cfg = model.config;
  const arch = cfg.modelType;
  const dtype = opts.dtype ?? ownDType(model);
  if (!(GGUF_DTYPES as readonly string[]).includes(dtype))
    throw new ExportRefusal(`dtype '${String(dtype)}' is not one of ${GGUF_DTYPES.join(', ')}`);
  checkRepresentable(cfg);
  const tensors = planTensors(model, arch, dtype);
  const vocab = opts.vocab ?? (opts.tokenizer ? ggufVocab(opts.tokenizer, cfg.vocabSize) : null);
  const metadata: [string, GgufKv][] = [
    ['general.architecture', kv.str(arch)],
    ['general.name', kv.str(opts.name ?? `olmo-ts ${arch}`)],
    ['general.file_type', kv.u32(FILE_TYPE[dtype])],
    ['general.quantization_version', kv.u32(GGML_QUANT_VERSION)],
    ...archMetadata(cfg, arch),
    ...(vocab ? vocab.entries : noVocab(cfg)),
  ];
  const bytes = writeGguf(out, metadata, tensors);
  return { out, bytes, arch, dtype, tensors: tensors.length, preTokenizer: vocab?.pre ?? null };
}

/**
 * Refuses configurations llama.cpp's graphs compute differently or cannot load: clip_qkv outside OLMo 1 (only
 * llama.cpp's olmo reads attention.clamp_kqv), a head size other than hidden/heads (the olmo2 and olmoe loaders
 * derive it that way), grouped KV heads in OLMoE (its attn_k_norm is {n_embd}), and OLMoE's norm_topk_prob
 * (llama.cpp's olmoe never renormalises the top-k router weights).
 */
export function checkRepresentable(cfg: ModelConfig): void {
  const arch = cfg.modelType as string;
  if (!isGgufArch(arch))
    throw new ExportRefusal(`model_type '${arch}' has no llama.cpp architecture (olmo, olmo2, olmoe)`);
  if (cfg.clipQkv !== null && arch !== 'olmo')
    throw new ExportRefusal(
      `clip_qkv = ${cfg.clipQkv}: llama.cpp's ${arch} graph does not clamp Q/K/V (only its olmo architecture reads attention.clamp_kqv), so the GGUF would compute a different model`,
    );
  if (cfg.headDim * cfg.numHeads !== cfg.hiddenSize)
    throw new ExportRefusal(
      `head_dim ${cfg.headDim} × num_attention_heads ${cfg.numHeads} ≠ hidden_size ${cfg.hiddenSize}: llama.cpp's ${arch} takes the head size to be hidden_size / num_attention_heads`,
    );
  if (arch === 'olmoe' && cfg.numKvHeads !== cfg.numHeads)
    throw new ExportRefusal(
      `num_key_value_heads ${cfg.numKvHeads} ≠ num_attention_heads ${cfg.numHeads}: llama.cpp's olmoe requires attn_k_norm of the full hidden size`,
    );
  if (arch === 'olmoe' && cfg.normTopkProb)
    throw new ExportRefusal(
      `norm_topk_prob = true: llama.cpp's olmoe weighs the chosen experts by their softmax probabilities without renormalising them`,
    );
}

function archMetadata(cfg: ModelConfig, arch: GgufArch): [string, GgufKv][] {
  const out: [string, GgufKv][] = [[archKey(arch, 'vocab_size'), kv.u32(cfg.vocabSize)]];
  for (const k of configKeysFor(arch)) {
    const v = k.get(cfg);
    if (v === null) continue;
    out.push([archKey(arch, k.key), k.type === 'u32' ? kv.u32(v) : kv.f32(v)]);
  }
  return out;
}

/** No tokenizer: llama.cpp's "none" vocabulary of vocab_size dummy tokens; the config's special ids kept. */
function noVocab(cfg: ModelConfig): [string, GgufKv][] {
  const out: [string, GgufKv][] = [['tokenizer.ggml.model', kv.str('none')]];
  const ids = { bos_token_id: cfg.bosTokenId, eos_token_id: cfg.eosTokenId, pad_token_id: cfg.padTokenId };
  for (const [field, key] of Object.entries(TOKEN_ID_KEYS)) {
    const id = ids[field as keyof typeof ids];
    if (id !== null && id < cfg.vocabSize) out.push([key, kv.u32(id)]);
  }
  return out;
}

/** Tensors llama.cpp keeps in f32 whatever the file type: vectors, norms and the MoE router (as convert does). */
function keptF32(ggufName: string, t: Tensor): boolean {
  return t.rank < 2 || ggufName.endsWith('_norm.weight') || ggufName.endsWith('.ffn_gate_inp.weight');
}

interface Part {
  hf: string;
  t: Tensor;
  /** Output row → source row (OLMo 1's Q/K permutation), or null for the identity. */
  rowOf: ((r: number) => number) | null;
}

/**
 * HF rotates the two halves of each head; llama.cpp's NORM RoPE (OLMo 1) rotates adjacent pairs. Output row
 * h·d + 2i + j is source row h·d + j·d/2 + i (convert_hf_to_gguf.py's LlamaModel.permute).
 */
function halfToPairs(headDim: number): (r: number) => number {
  const half = headDim / 2;
  return (r) => {
    const k = r % headDim;
    return r - k + (k & 1) * half + (k >> 1);
  };
}

function planTensors(model: CausalLM, arch: GgufArch, dtype: GgufDType): GgufTensorToWrite[] {
  const singles = new Map<string, Part>();
  const stacks = new Map<string, Part[]>();
  const permute = PERMUTES_QK[arch] ? halfToPairs(model.config.headDim) : null;
  for (const [hf, t] of model.namedParameters()) {
    const target = hfToGguf(arch, hf);
    if (!target) throw new ExportRefusal(`parameter ${hf} has no tensor in llama.cpp's ${arch} architecture`);
    const qk = /\.self_attn\.[qk]_proj\.weight$/.test(hf);
    const part: Part = { hf, t, rowOf: qk ? permute : null };
    if (target.expert === undefined) singles.set(target.name, part);
    else {
      const list = stacks.get(target.name) ?? [];
      list[target.expert] = part;
      stacks.set(target.name, list);
    }
  }
  // llama.cpp's olmo2 and olmoe require output.weight; a tied model repeats its embedding there
  if (arch !== 'olmo' && !singles.has('output.weight'))
    singles.set('output.weight', { ...singles.get('token_embd.weight')!, hf: 'model.embed_tokens.weight (tied)' });
  const out: GgufTensorToWrite[] = [];
  for (const [name, part] of singles) out.push(tensorOf(name, [part], part.t.shape, dtype));
  for (const [name, parts] of stacks) out.push(tensorOf(name, parts, [parts.length, ...parts[0].t.shape], dtype));
  return out;
}

function tensorOf(name: string, parts: Part[], shape: readonly number[], dtype: GgufDType): GgufTensorToWrite {
  const type: GgmlTypeName = keptF32(name, parts[0].t) ? 'F32' : GGML_OF[dtype];
  const cols = shape[shape.length - 1];
  if (type === 'Q8_0' && cols % Q8_BLOCK !== 0)
    throw new ExportRefusal(
      `${parts[0].hf} → ${name} [${parts[0].t.shape.join(', ')}]: q8_0 needs rows whose length is a multiple of ${Q8_BLOCK}, this one's is ${cols}; export with --dtype f16, bf16 or f32`,
    );
  return { name, shape, type, data: (write) => parts.forEach((p) => writeRows(p, name, type, write)) };
}

/** Streams one part's rows in output order, a block of about a million values at a time. */
function writeRows(p: Part, name: string, type: GgmlTypeName, write: (b: Uint8Array) => void): void {
  const t = p.t;
  if (t.rank < 2) return write(arrayBytes(Float32Array.from(t.f32('GGUF export'))));
  const [rows, cols] = t.shape;
  const step = Math.max(1, Math.floor((1 << 20) / cols));
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    if (!p.rowOf) write(encodeRows(t, r0, r1, type, name));
    else for (let r = r0; r < r1; r++) write(encodeRows(t, p.rowOf(r), p.rowOf(r) + 1, type, name));
  }
}

/** Rows [a, b) of a 2-D weight in ggml type `type`. */
function encodeRows(t: Tensor, a: number, b: number, type: GgmlTypeName, name: string): Uint8Array {
  const cols = t.shape[1];
  const raw = (): Uint8Array => arrayBytes((t.data as Uint16Array).subarray(a * cols, b * cols));
  if (type === 'Q8_0') {
    if (t.dtype === 'q8_0') {
      const { quants, scales } = q8Parts(t, a, b);
      return packQ8_0(quants, scales);
    }
    const view = Tensor.fromStorage([b - a, cols], t.dtype, (t.data as Float32Array).subarray(a * cols, b * cols));
    let q: Tensor;
    try {
      q = quantizeWeight(view);
    } catch (e) {
      throw new ExportRefusal(`${name}, rows ${a}..${b - 1}: cannot be q8_0: ${(e as Error).message}`);
    }
    const { quants, scales } = q8Parts(q);
    return packQ8_0(quants, scales);
  }
  if ((type === 'BF16' && t.dtype === 'bf16') || (type === 'F16' && t.dtype === 'f16')) return raw();
  const f = widenRows(t, a, b);
  if (type === 'F32') return arrayBytes(f);
  const bits = fromFloat32(f, type === 'F16' ? 'F16' : 'BF16');
  if (type === 'F16') {
    const i = bits.findIndex((h, k) => (h & 0x7c00) === 0x7c00 && Number.isFinite(f[k]));
    if (i >= 0)
      throw new ExportRefusal(
        `${name}: value ${f[i]} (row ${a + Math.floor(i / cols)}) is beyond f16's range (±65504); export with --dtype bf16 or f32`,
      );
  }
  return arrayBytes(bits);
}
