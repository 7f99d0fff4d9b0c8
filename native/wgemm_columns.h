// The column loop of the weight-only GEMM: output columns [j0, j1) for every x row, as tiles of RM x rows by RN
// weight rows. Included inside each path's namespace after its Tile overloads (wgemm_isa.h, wgemm_bf16dot.h);
// a Tile fixes each output element's order of summation by itself, so how this loop cuts the output into tiles
// never changes a result.

// Output columns [j0, j1) for every row: weight rows in blocks that stay in cache while all x rows pass. Rows of
// x left over from the RM-row tiles (all of them when decoding one token) take RN1 weight rows at once: each
// output element is one FMA chain, so a single x row needs many weight rows in flight to hide the FMA latency
// and keep enough loads outstanding for the weights to stream at memory bandwidth.
template <int RM, int RN, int RN1, class X, class W>
inline void Columns(const X* x, const W& w, float* out, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1,
                    const float* wtail) {
  constexpr int64_t kBlock = 32;  // weight rows per cache block
  for (int64_t jb = j0; jb < j1; jb += kBlock) {
    const int64_t je = jb + kBlock < j1 ? jb + kBlock : j1;
    int64_t i = 0;
    for (; i + RM <= m; i += RM) {
      int64_t j = jb;
      for (; j + RN <= je; j += RN) Tile<RM, RN>(x, w, out, i, j, n, k, wtail);
      for (; j < je; ++j) Tile<RM, 1>(x, w, out, i, j, n, k, wtail);
    }
    for (; i < m; ++i) {
      int64_t j = jb;
      for (; j + RN1 <= je; j += RN1) Tile<1, RN1>(x, w, out, i, j, n, k, wtail);
      for (; j + RN <= je; j += RN) Tile<1, RN>(x, w, out, i, j, n, k, wtail);
      for (; j < je; ++j) Tile<1, 1>(x, w, out, i, j, n, k, wtail);
    }
  }
}
