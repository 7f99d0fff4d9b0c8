// The numbers of the GGUF file format (version 3) and of ggml's tensor types: magic, version, alignment, the
// metadata value types, the tensor type ids with their block sizes, llama.cpp's file-type and token-type ids.
// Source of every number: gguf-py/gguf/constants.py in llama.cpp,
// https://github.com/ggml-org/llama.cpp/blob/master/gguf-py/gguf/constants.py, and the format description
// https://github.com/ggml-org/ggml/blob/master/docs/gguf.md.

/** "GGUF" read as a little-endian uint32 (the bytes 0x47 0x47 0x55 0x46 at offset 0). */
export const GGUF_MAGIC = 0x46554747;
/** The four magic bytes as they appear in the file. */
export const GGUF_MAGIC_BYTES: readonly number[] = [0x47, 0x47, 0x55, 0x46];
export const GGUF_VERSION = 3;
/** Tensor data starts at, and each tensor's offset is, a multiple of general.alignment; this is its default. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** general.quantization_version: ggml's GGML_QNT_VERSION, the q8_0 block layout version readers expect. */
export const GGML_QUANT_VERSION = 2;
/** A ggml tensor has at most 4 dimensions. */
export const GGML_MAX_DIMS = 4;

/** Metadata value types (gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** Byte size of each fixed-size value type (STRING and ARRAY are variable). */
export const GGUF_VALUE_SIZE: Readonly<Partial<Record<GgufValueType, number>>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

/** ggml tensor type ids (GGMLQuantizationType / enum ggml_type). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlType = (typeof GgmlType)[GgmlTypeName];

/** Elements per block and bytes per block of each type (GGML_QUANT_SIZES). */
export const GGML_TYPE_SIZE: Readonly<Record<GgmlTypeName, { blockSize: number; blockBytes: number }>> = {
  F32: { blockSize: 1, blockBytes: 4 },
  F16: { blockSize: 1, blockBytes: 2 },
  Q4_0: { blockSize: 32, blockBytes: 18 },
  Q4_1: { blockSize: 32, blockBytes: 20 },
  Q5_0: { blockSize: 32, blockBytes: 22 },
  Q5_1: { blockSize: 32, blockBytes: 24 },
  Q8_0: { blockSize: 32, blockBytes: 34 },
  Q8_1: { blockSize: 32, blockBytes: 36 },
  Q2_K: { blockSize: 256, blockBytes: 84 },
  Q3_K: { blockSize: 256, blockBytes: 110 },
  Q4_K: { blockSize: 256, blockBytes: 144 },
  Q5_K: { blockSize: 256, blockBytes: 176 },
  Q6_K: { blockSize: 256, blockBytes: 210 },
  Q8_K: { blockSize: 256, blockBytes: 292 },
  IQ2_XXS: { blockSize: 256, blockBytes: 66 },
  IQ2_XS: { blockSize: 256, blockBytes: 74 },
  IQ3_XXS: { blockSize: 256, blockBytes: 98 },
  IQ1_S: { blockSize: 256, blockBytes: 50 },
  IQ4_NL: { blockSize: 32, blockBytes: 18 },
  IQ3_S: { blockSize: 256, blockBytes: 110 },
  IQ2_S: { blockSize: 256, blockBytes: 82 },
  IQ4_XS: { blockSize: 256, blockBytes: 136 },
  I8: { blockSize: 1, blockBytes: 1 },
  I16: { blockSize: 1, blockBytes: 2 },
  I32: { blockSize: 1, blockBytes: 4 },
  I64: { blockSize: 1, blockBytes: 8 },
  F64: { blockSize: 1, blockBytes: 8 },
  IQ1_M: { blockSize: 256, blockBytes: 56 },
  BF16: { blockSize: 1, blockBytes: 2 },
  TQ1_0: { blockSize: 256, blockBytes: 54 },
  TQ2_0: { blockSize: 256, blockBytes: 66 },
  MXFP4: { blockSize: 32, blockBytes: 17 },
};

/** q8_0: 32 values per block, stored as one f16 scale followed by 32 int8 quants. */
export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 34;

const TYPE_NAMES = new Map<number, GgmlTypeName>(
  (Object.entries(GgmlType) as [GgmlTypeName, number][]).map(([name, id]) => [id, name]),
);

/** The name of a ggml type id ("Q8_0"), or null for an id this table does not know. */
export function ggmlTypeName(id: number): GgmlTypeName | null {
  return TYPE_NAMES.get(id) ?? null;
}

/**
 * Bytes taken by `count` elements of a type, or null when `count` is not a whole number of its blocks (a row
 * length that is not a multiple of 32 cannot be q8_0).
 */
export function ggmlByteLength(type: GgmlTypeName, count: number): number | null {
  const { blockSize, blockBytes } = GGML_TYPE_SIZE[type];
  if (count % blockSize !== 0) return null;
  return (count / blockSize) * blockBytes;
}

/** general.file_type (LlamaFileType): the type most 2-D tensors have; 1-D tensors stay f32. */
export const LlamaFileType = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q8_0: 7,
  MOSTLY_BF16: 32,
} as const;

/** tokenizer.ggml.token_type values (llama_token_type). */
export const GgufTokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
