// Decoding's exact bf16 tile on AVX-512 for weight rows that do not start on a 64-byte cache line. Included by
// wgemm.cc inside its avx512 namespace, before wgemm_isa.h, whose bf16 Tile calls AlignedBf16Tile for one x row.
//
// A memory-mapped checkpoint keeps each tensor at the offset its file gives it (a Hugging Face safetensors file
// puts its tensors 16 bytes past a line, for instance), so a weight row usually starts part-way into a line and
// every 64-byte load of it spans two lines. The exact bf16 tile loads each block of 32 weights twice (the even
// and the odd halves of its pairs), and with split loads decoding read the weights markedly slower than from
// rows on lines. Here each line of a row is loaded once, aligned, and each block is put together from two
// consecutive lines by one two-source permute (vpermt2d, or vpermt2w where rows are 2 bytes off a 4-byte
// boundary). The block's products and their order are those of the Tile, so the sums are the same bits.
// (Two or more x rows copy their chunk of such rows onto lines instead: Run in wgemm.cc.)
//
// Reading stays inside the lines that hold the row's own bytes: the first aligned load starts at the line of
// the row's first byte, and the last ends with the line of its last byte (the row is off its line, so the block
// after the last one starts inside that line). Memory is mapped by pages, and a line never crosses a page.
#pragma once

// acc[c] += row c's products, in the bf16 pair order of wgemm_isa.h, for RN rows of k weights (k % 32 == 0) that
// start the same `skew` bytes past a line (0 < skew < 64, even); xp is x de-interleaved (PairX).
template <int RN, bool Words>
inline void AlignedBf16Rows(const float* xp, const uint16_t* const* row, int64_t k, int skew, V* acc) {
  // Element i of a block comes from element i + shift of the two lines (prev, next) read as one.
  alignas(64) int32_t idx[16];
  if (Words) {
    for (int i = 0; i < 16; ++i) idx[i] = (2 * i + skew / 2) | (2 * i + 1 + skew / 2) << 16;  // 32 words
  } else {
    for (int i = 0; i < 16; ++i) idx[i] = i + skew / 4;  // 16 dwords
  }
  const __m512i index = _mm512_load_si512(idx);
  const uint16_t* line[RN];
  __m512i prev[RN];
  for (int c = 0; c < RN; ++c) {
    line[c] = row[c] - skew / 2;
    prev[c] = _mm512_load_si512(line[c]);
  }
  for (int64_t kk = 0; kk < k; kk += 32) {
    __m512i block[RN];  // row c's weights kk .. kk + 31 as stored
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c) {
      __builtin_prefetch(line[c] + kk + 32 + kBf16DecodeAhead, 0, 3);
      const __m512i next = _mm512_load_si512(line[c] + kk + 32);
      block[c] = Words ? _mm512_permutex2var_epi16(prev[c], index, next)
                       : _mm512_permutex2var_epi32(prev[c], index, next);
      prev[c] = next;
    }
    const V xe = VLoad(xp + kk), xo = VLoad(xp + kk + 16);
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c) acc[c] = VFma(xe, _mm512_castsi512_ps(_mm512_slli_epi32(block[c], 16)), acc[c]);
#pragma GCC unroll 16
    for (int c = 0; c < RN; ++c)
      acc[c] = VFma(xo, _mm512_castsi512_ps(_mm512_and_si512(block[c], _mm512_set1_epi32(-65536))), acc[c]);
  }
}

// One x row's tile from aligned loads where that applies: rows of whole blocks (k % 32 == 0, so that every row of
// the matrix starts equally far past its line) that start off a line, with the word or the dword permute as the
// skew needs. Returns false otherwise, and the Tile loads the rows as they are.
template <int RN>
inline bool AlignedBf16Tile(const float* xp, const uint16_t* const* row, int64_t k, V* acc) {
  const int skew = static_cast<int>(reinterpret_cast<uintptr_t>(row[0]) & 63);
  if (k % 32 != 0 || skew == 0) return false;
  if (skew % 4 == 0)
    AlignedBf16Rows<RN, false>(xp, row, k, skew, acc);
  else
    AlignedBf16Rows<RN, true>(xp, row, k, skew, acc);
  return true;
}
