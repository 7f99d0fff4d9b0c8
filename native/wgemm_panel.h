// The weight-only GEMM's prefill loop for f32 and q8_0 weights: many x rows against the same weights. Included once per
// path by wgemm.cc inside its namespace, after wgemm_isa.h (V and the weight formats); needs PanelScratch().
//
// Each output element gets exactly the sums Tile computes (wgemm_isa.h): lane l accumulates k ≡ l (mod 16) in
// increasing k with FMA. Only where the operands come from changes:
//  - x is copied once per call into groups of RM rows laid out step by step ([group][step][r][16], zero rows
//    after the last and zeros after k), so a tile reads its x rows as one sequential stream;
//  - a block of weight rows is copied into a panel laid out in the order the tiles read it, and reused by every
//    x group from L2;
//  - k runs in chunks, so that an x group's chunk stays in L1 while it meets every tile of the panel: a tile's
//    partial lane sums wait in a small per-thread buffer between chunks, stored and reloaded exactly (a float
//    store and load round nothing), so chunking leaves every bit as Tile's single pass gives it.
// A dot-product tile loads both operands for every FMA, so whatever comes from beyond L1 sets its pace.

// The panel's layout: k in chunks of kPanelChunk vector steps (16 weights each); within a chunk, weight rows in
// tiles of RN rows (the last one may be narrower: `width` rows), and within a tile, for each step, its rows' 16
// weights: [chunk][tile][step][c][16]. What one x group meets in one chunk is one contiguous stream. (kPanelRows,
// kPanelChunk and kPanelBlock come from wgemm.cc.)

// Offset of step s of the tile whose first row is t0 (of nj rows in all; `steps` over the whole of k).
inline int64_t PanelAt(int64_t s, int64_t steps, int64_t nj, int64_t t0, int64_t width) {
  const int64_t c0 = s / kPanelChunk * kPanelChunk, len = steps - c0 < kPanelChunk ? steps - c0 : kPanelChunk;
  return c0 * nj * 16 + t0 * len * 16 + (s - c0) * width * 16;
}

// Copies x (m rows of k) into `xp` as groups of rm rows, [group][step][r][16], zero-padded to whole groups and
// whole steps: (m + rm - 1) / rm · steps · rm · 16 floats. Fills groups [g0, g1) (a thread's share).
inline void PackX(const float* x, int64_t m, int64_t k, int rm, float* xp, int64_t g0, int64_t g1) {
  const int64_t steps = (k + 15) / 16;
  for (int64_t g = g0; g < g1; ++g)
    for (int r = 0; r < rm; ++r) {
      const int64_t i = g * rm + r;
      float* dst = xp + g * steps * rm * 16 + r * 16;
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t c0 = s * 16, len = i < m ? (k - c0 < 16 ? k - c0 : 16) : 0;
        float* d = dst + s * rm * 16;
        if (len > 0) std::memcpy(d, x + i * k + c0, len * sizeof(float));
        for (int64_t l = len; l < 16; ++l) d[l] = 0.f;
      }
    }
}

// Copies rows [j0, j0 + nj), weights [k0, k0 + kn) (kn a multiple of 16 that may run past k: the zero-padded
// tail, from wtail) of w into `panel` in PanelAt's layout. (w.Load widens: q8_0's multiplies by the block's
// scale, once per panel rather than once per group of x rows.)
template <class W>
void FillPanel(const W& w, int64_t j0, int64_t nj, int64_t k0, int64_t kn, int64_t k, int rn, const float* wtail,
               float* panel) {
  const int64_t steps = kn / 16, k16 = k - k % 16;
  for (int64_t t0 = 0; t0 < nj; t0 += rn) {
    const int64_t width = nj - t0 < rn ? nj - t0 : rn;
    for (int64_t c = 0; c < width; ++c)
      for (int64_t s = 0; s < steps; ++s) {
        float* dst = panel + PanelAt(s, steps, nj, t0, width) + c * 16;
        if (k0 + s * 16 < k16)
          VStore(dst, w.Load(j0 + t0 + c, k0 + s * 16));
        else
          VStore(dst, VLoad(wtail + 16 * (j0 + t0 + c)));
      }
  }
}

// One tile of RM x rows by RN panel rows over `count` steps of the current chunk: the x group xg ([step][r][16])
// against the tile's panel p (ps floats a step), both at the chunk's first step. Its lane sums are carried in
// `carry` ([r][c][16] floats, row stride rn·16) between chunks: zero before the first.
template <int RM, int RN>
inline void CarriedTile(const float* xg, const float* p, int64_t ps, int64_t count, bool first, float* carry,
                        int64_t rn) {
  V acc[RM][RN];
  if (first) {
    for (int r = 0; r < RM; ++r)
      for (int c = 0; c < RN; ++c) acc[r][c] = VZero();
  } else {
    for (int r = 0; r < RM; ++r)
      for (int c = 0; c < RN; ++c) acc[r][c] = VLoad(carry + (r * rn + c) * 16);
  }
  for (int64_t s = 0; s < count; ++s) {
    V wv[RN];
    for (int c = 0; c < RN; ++c) wv[c] = VLoad(p + s * ps + c * 16);
    for (int r = 0; r < RM; ++r) {
      const V xv = VLoad(xg + (s * RM + r) * 16);
      for (int c = 0; c < RN; ++c) acc[r][c] = VFma(xv, wv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < RM; ++r)
    for (int c = 0; c < RN; ++c) VStore(carry + (r * rn + c) * 16, acc[r][c]);
}

// Output columns [j0, j1) for all m rows of x, packed by PackX into xp, on the panel path. Weight rows go in
// groups of up to kPanelRows, k in blocks whose panel fits in L2 (a group of rows meets every x row in
// each block, so x streams from memory once per block and group); within a block, x goes RM rows at a time and k
// a chunk at a time. The lane sums of every x row and weight row of the group wait in `carry` between chunks; after
// an x group's last chunk its sums are added up (VReduce16: sixteen outputs at once) while its carry is in L1.
template <int RM, int RN, class W>
void PanelColumns(const float* xp, const W& w, float* out, int64_t m, int64_t n, int64_t k, int64_t j0,
                  int64_t j1, const float* wtail) {
  constexpr int64_t kBlock = kPanelBlock;  // steps per k block
  static_assert(kBlock % kPanelChunk == 0, "a k block holds whole chunks");
  const int64_t steps = (k + 15) / 16, groups = (m + RM - 1) / RM;
  float* panel = PanelScratch(0).get(kPanelRows * kBlock * 16);
  float* carry = PanelScratch(1).get(groups * RM * kPanelRows * 16);
  for (int64_t jb = j0; jb < j1; jb += kPanelRows) {
    const int64_t nj = jb + kPanelRows < j1 ? kPanelRows : j1 - jb;
    for (int64_t sb = 0; sb < steps; sb += kBlock) {
      const int64_t bsteps = sb + kBlock < steps ? kBlock : steps - sb;
      FillPanel(w, jb, nj, sb * 16, bsteps * 16, k, RN, wtail, panel);
      for (int64_t g = 0; g < groups; ++g) {
        const float* xg = xp + (g * steps + sb) * RM * 16;
        float* cg = carry + g * RM * nj * 16;
        for (int64_t s = 0; s < bsteps; s += kPanelChunk) {
          const int64_t count = s + kPanelChunk < bsteps ? kPanelChunk : bsteps - s;
          const bool first = sb == 0 && s == 0;
          const float* xs = xg + s * RM * 16;
          for (int64_t t0 = 0; t0 < nj; t0 += RN) {
            const int64_t width = nj - t0 < RN ? nj - t0 : RN, ps = width * 16;
            const float* p = panel + PanelAt(s, bsteps, nj, t0, width);
            if (width == RN) {
              CarriedTile<RM, RN>(xs, p, ps, count, first, cg + t0 * 16, nj);
            } else {
              for (int64_t c = 0; c < width; ++c)  // the last, narrower tile: one weight row at a time
                CarriedTile<RM, 1>(xs, p + c * 16, ps, count, first, cg + (t0 + c) * 16, nj);
            }
          }
        }
        if (sb + bsteps < steps) continue;
        // The group's last chunk is done: its rows' sums, from its carry while that is still in L1.
        for (int64_t r = 0; r < RM && g * RM + r < m; ++r) {
          const float* cr = cg + r * nj * 16;
          float* o = out + (g * RM + r) * n + jb;
          int64_t c = 0;
          for (; c + 16 <= nj; c += 16) VReduce16(cr + c * 16, o + c);
          for (; c < nj; ++c) o[c] = VReduce(VLoad(cr + c * 16));
        }
      }
    }
  }
}
