// `olmo export gguf`: a checkpoint as a GGUF file for llama.cpp (and Ollama, LM Studio, …).
import { exportGguf, ExportRefusal, GGUF_DTYPES, type GgufDType } from '../index.ts';
import { optionTable, parseCommandArgs, UsageError, type Command } from './command.ts';
import { MODEL_REF_HELP, resolveModelArg } from './model-loading.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a model in another format (gguf: for llama.cpp)',
  usage: `olmo export gguf --model X --out FILE.gguf [--dtype f32|f16|bf16|q8_0] [--tokenizer DIR|none]

Writes the model as a GGUF v3 file in llama.cpp's names and layout (architectures olmo, olmo2, olmoe), with the
tokenizer (tokens, merges, special ids, pre-tokenizer) and chat template, so llama.cpp and the tools built on it
run it as olmo-ts does. Refuses, naming the option or tensor, what llama.cpp cannot represent (e.g. clip_qkv on
olmo2, OLMoE's norm_topk_prob, q8_0 for a matrix whose rows are not multiples of 32).

  --model X        ${MODEL_REF_HELP}
  --out FILE       the .gguf to write (atomically: nothing is left there if the export fails)
  --dtype D        f32, f16, bf16 or q8_0 (ggml's 8-bit blocks); default the checkpoint's own
  --tokenizer DIR  folder with tokenizer.json (default: the model folder's, or a .gguf model's own
                   tokenizer keys as they are); 'none' writes no tokenizer (for olmo-ts only: llama.cpp
                   cannot load such a file)`,
  async run(argv) {
    const [format, ...rest] = argv;
    if (format !== 'gguf')
      throw new UsageError(
        `olmo export: give the format first (olmo export gguf …); ${format === undefined ? 'none given' : `got '${format}'`}; formats: gguf`,
      );
    const { values } = parseCommandArgs('export', {
      args: rest,
      options: optionTable(['model', 'out', 'dtype', 'tokenizer']),
    });
    if (!values.out) throw new UsageError('olmo export gguf: --out FILE.gguf is required');
    const dtype = values.dtype;
    if (dtype !== undefined && !(GGUF_DTYPES as readonly string[]).includes(dtype))
      throw new UsageError(`olmo export gguf: --dtype must be one of ${GGUF_DTYPES.join(', ')}, got '${dtype}'`);
    const model = await resolveModelArg('export gguf', values.model);
    const tokenizer = values.tokenizer === 'none' ? null : values.tokenizer;
    try {
      const r = await exportGguf({ model, out: values.out, dtype: dtype as GgufDType | undefined, tokenizer });
      if (tokenizer === null)
        console.error(
          `olmo export gguf: warning: ${r.out} has no tokenizer; llama.cpp (and Ollama) cannot load it, olmo-ts can (with --tokenizer)`,
        );
      const mb = (r.bytes / 1e6).toFixed(1);
      console.log(
        `wrote ${r.out}: ${r.arch}, ${r.dtype}, ${r.tensors} tensors, ${mb} MB, ` +
          (r.preTokenizer ? `tokenizer (pre-tokenizer ${r.preTokenizer})` : 'no tokenizer'),
      );
    } catch (e) {
      if (e instanceof ExportRefusal) throw new UsageError(`olmo export gguf: cannot export ${model}: ${e.message}`);
      throw e;
    }
    return 0;
  },
};
