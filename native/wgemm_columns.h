// The column loop of the weight-only GEMM: output columns [j0, j1) for every x row, as tiles of up to RM x rows by
// RN weight rows. Included inside each path's namespace after its Tile overloads (wgemm_isa.h, wgemm_bf16dot.h);
// a Tile fixes each output element's order of summation by itself, so how this loop cuts the output into tiles
// never changes a result.

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
// memory bandwidth.
template <int RM, int RN, int RN1, class X, class W>
inline void Columns(const X* x, const W& w, float* out, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1,
                    const float* wtail) {
  constexpr int64_t kBlock = 32;  // weight rows per cache block
  if (m == 0) return;              // no x rows: no groups (and no division by their count)
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
