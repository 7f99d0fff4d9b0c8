// Where a checkpoint's float matrices fall against 64-byte cache lines once the file is memory-mapped (a mapping
// starts on a page, so a tensor's address modulo 64 is its file offset modulo 64), read from the file headers
// alone: `olmo info` reports it, since matrices off the lines decode markedly slower unless loaded with
// alignWeights (checkpoint.ts LoadOptions), which copies them onto lines (bf16 ones on the AVX-512 path excepted).
import { ggmlTypeName } from '../io/gguf/constants.ts';
import { openCheckpointTensors } from '../io/safetensors-sharded.ts';
import { CACHE_LINE } from '../tensor/mapped-file.ts';
import { isGgufPath, openGguf } from './gguf-load.ts';

export interface WeightAlignment {
  /** Float (f32, f16, bf16) matrices in the checkpoint. */
  matrices: number;
  /** Those whose data does not start on a 64-byte boundary. */
  offLine: number;
  /**
   * Of those, the bf16 ones (native/wgemm_bf16lines.h: on the AVX-512 path the exact kernels read such rows from
   * aligned loads, or stage them onto lines, and gain nothing from alignWeights).
   */
  offLineBf16: number;
}

/** The dtypes the weight kernels stream as stored (GGUF and safetensors spell them alike). */
const FLOAT_TYPES = ['F32', 'F16', 'BF16'];

/** The float matrices of a checkpoint folder or GGUF file, and how many of them start off a cache line. */
export function weightAlignment(ref: string): WeightAlignment {
  const found: { offset: number; dtype: string }[] = [];
  if (isGgufPath(ref)) {
    for (const t of openGguf(ref).tensors.values()) {
      const dtype = ggmlTypeName(t.type) ?? '';
      if (t.shape.length >= 2 && FLOAT_TYPES.includes(dtype)) found.push({ offset: t.offset, dtype });
    }
  } else {
    const src = openCheckpointTensors(ref);
    try {
      for (const name of src.names()) {
        const info = src.info(name);
        if (info.shape.length === 2 && FLOAT_TYPES.includes(info.dtype))
          found.push({ offset: src.locate(name).offset, dtype: info.dtype });
      }
    } finally {
      src.close();
    }
  }
  const offLine = found.filter((t) => t.offset % CACHE_LINE !== 0);
  return {
    matrices: found.length,
    offLine: offLine.length,
    offLineBf16: offLine.filter((t) => t.dtype === 'BF16').length,
  };
}
