// The column loop of the weight-only GEMM: output columns [j0, j1) for every x row, as tiles of up to RM x rows by
// RN weight rows. Included inside each path's namespace after its Tile overloads (wgemm_isa.h, wgemm_bf16dot.h);
// a Tile fixes each output element's order of summation by itself, so how this loop cuts the output into tiles
// never changes a result.

// W::kDecodeStride where the weight format declares one (with a `step` member its tiles follow, and
// kDecodeRows, the weight rows of its decoding tile), else 1.
template <class W, class = void>
constexpr int64_t kDecodeStrideOf = 1;
template <class W>
constexpr int64_t kDecodeStrideOf<W, std::void_t<decltype(W::kDecodeStride)>> = W::kDecodeStride;

// Output columns [j0, j1) for one x row, for weight formats with a decode stride S: tiles of R weight rows S
// apart, S consecutive tiles covering R·S rows (tile t takes rows j + t + c·S). Each of the tile's R load streams
// then runs on through S consecutive rows, where adjacent rows would start R new streams every tile. A core reads
// a few long sequential streams much faster than many short ones (8 rows of 4 KiB at a time read markedly slower
// than 4), so R is the format's kDecodeRows, four: enough FMA chains to hide their latency at this rate, where
// the path's RN1 would be eight (R is at most RN1, so narrower paths keep their own). S shrinks for the last rows
// of the range; the few rows left below R take one-row tiles. bench llm measures decoding.
template <int RN1, class X, class W>
inline void StridedDecodeColumns(const X* x, const W& w, float* out, int64_t n, int64_t k, int64_t j0, int64_t j1,
                                 const float* wtail) {
  constexpr int R = RN1 < W::kDecodeRows ? RN1 : W::kDecodeRows;
  int64_t j = j0;
  while (j1 - j >= R) {
    W strided = w;
    strided.step = std::min(kDecodeStrideOf<W>, (j1 - j) / R);
    for (int64_t t = 0; t < strided.step; ++t) Tile<1, R>(x, strided, out, 0, j + t, n, k, wtail);
    j += R * strided.step;
  }
  for (; j < j1; ++j) Tile<1, 1>(x, w, out, 0, j, n, k, wtail);
}

// Tile<g, RN> for a group of g x rows, 1 <= g <= RM, with g known only at run time.
template <int RM, int RN, class X, class W>
inline void GroupTile(int g, const X* x, const W& w, float* out, int64_t i0, int64_t j0, int64_t n, int64_t k,
                      const float* wtail) {
  if constexpr (RM > 1) {
    if (g < RM) return GroupTile<RM - 1, RN>(g, x, w, out, i0, j0, n, k, wtail);
  }
  Tile<RM, RN>(x, w, out, i0, j0, n, k, wtail);
}

// Output columns [j0, j1) for every row: weight rows in blocks that stay in cache while all x rows pass. The x rows
// are cut into the fewest groups of at most RM rows, of sizes differing by at most one (8 rows with RM = 6: two
// groups of 4), since every group widens and loads the block's weights once more. A group of one row (decoding
// one token) takes RN1 weight rows at once: each output element is one FMA chain, so a single x row needs many
// weight rows in flight to hide the FMA latency and keep enough loads outstanding for the weights to stream at
// memory bandwidth (for formats with a decode stride, in StridedDecodeColumns' order).
template <int RM, int RN, int RN1, class X, class W>
inline void Columns(const X* x, const W& w, float* out, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1,
                    const float* wtail) {
  constexpr int64_t kBlock = 32;  // weight rows per cache block
  if (m == 0) return;              // no x rows: no groups (and no division by their count)
  if constexpr (kDecodeStrideOf<W> > 1) {
    if (m == 1) return StridedDecodeColumns<RN1>(x, w, out, n, k, j0, j1, wtail);
  }
  const int64_t groups = (m + RM - 1) / RM, small = m / groups, large = m % groups;  // `large` groups of small+1
  for (int64_t jb = j0; jb < j1; jb += kBlock) {
    const int64_t je = jb + kBlock < j1 ? jb + kBlock : j1;
    for (int64_t gi = 0, i = 0; gi < groups; ++gi) {
      const int g = static_cast<int>(small + (gi < large ? 1 : 0));
      int64_t j = jb;
      if (g == 1) {
        for (; j + RN1 <= je; j += RN1) Tile<1, RN1>(x, w, out, i, j, n, k, wtail);
        for (; j + RN <= je; j += RN) Tile<1, RN>(x, w, out, i, j, n, k, wtail);
      } else {
        for (; j + RN <= je; j += RN) GroupTile<RM, RN>(g, x, w, out, i, j, n, k, wtail);
      }
      for (; j < je; ++j) GroupTile<RM, 1>(g, x, w, out, i, j, n, k, wtail);
      i += g;
    }
  }
}
