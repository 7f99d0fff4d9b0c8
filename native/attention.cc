// Fused causal scaled-dot-product attention with grouped KV heads (GQA/MQA), forward and backward.
//
// Layouts: q, out, gq [B, Tq, Hq, D]; k, v, gk, gv [B, Tk, Hkv, D]; lse [B, Hq, Tq]. Query i of sequence b
// sits at position p = kvLens[b] − Tq + i and sees keys 0..p.
//
// Forward (flash-attention style): a task owns a block of query tokens for one KV head and all the query
// heads that share it (so each K/V tile is loaded once for the whole group), walks key tiles of kBk keys
// and keeps, per query row, a running max m, a running sum l and an unnormalised output accumulator: the
// Tq×Tk score matrix never exists. lse = m + log l is saved for backward. A block of a few query rows
// (decoding) takes several KV heads, which meet each key tile in turn: the cache holds a position's rows of all
// heads side by side, so the task then reads it in runs of several heads' rows instead of one row per position.
//
// Backward (flash-attention 2 style): a task owns a tile of keys of one KV head, so its gk/gv rows are
// private and need no synchronisation; it walks the query rows that can see those keys, recomputes
// P = exp(scale·q·k − lse) from the saved lse, and accumulates gv += Pᵀ·gOut, gk += dSᵀ·q and
// gq += dS·k with dS = P ⊙ (gOut·vᵀ − D), D = rowsum(gOut ⊙ out). gq rows are shared by every key tile
// of a group, so either a whole group runs on one thread (many groups: the common case), or the tiles of
// one group are spread over threads that each accumulate gq into a private buffer summed at the end.
//
// The inner loops are two small GEMM-like microkernels on row-pointer lists (so strided heads and grouped
// rows need no copies): Scores (S = scale·A·Bᵀ, 2 rows × 4 keys of 8-wide FMA accumulators; one row × 8 keys)
// and Accum (C += A·B, 2 rows × 32 columns; one row × 64 columns), plus a vectorised exp (vmath.h's
// ExpClampedDeg6). A plain scalar path stands in without AVX2 and can be forced for tests (_attentionForceScalar).
#include <immintrin.h>
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "force_scalar.h"
#include "napi_args.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace olmo {
namespace {

constexpr int64_t kBk = 64;          // keys per tile
constexpr int64_t kRowsTarget = 64;  // query rows (tokens × group heads) per block
constexpr int64_t kMinParallelWork = 1 << 17;  // multiply-adds below which one thread does everything
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Test hook: _attentionForceScalar(true) runs the plain scalar microkernels even where AVX2 exists, so the
// fallback path is exercised by the tests on this machine.
ScalarSwitch g_paths{"_attentionForceScalar"};

// ---------------------------------------------------------------------------------------------------------
// Microkernels. Row arguments are lists of row pointers; every row has D floats.

struct Ops {
  // S[r·lds + c] = scale·⟨a[r], b[c]⟩ for r < nr, c < nc.
  void (*scores)(const float* const* a, const float* const* b, int64_t nr, int64_t nc, int64_t D, float scale,
                 float* S, int64_t lds);
  // c[r][x] += Σ_s A[r·ar + s·as]·b[s][x] for r < nr, s < ns, x < D.
  void (*accum)(float* const* c, int64_t nr, const float* A, int64_t ar, int64_t as, const float* const* b,
                int64_t ns, int64_t D);
  // max of s[0..n) (n ≥ 1).
  float (*row_max)(const float* s, int64_t n);
  // s[i] = exp(s[i] − m) for i < lim, s[i] = 0 for lim ≤ i < n; returns Σ s.
  float (*exp_row)(float* s, int64_t lim, int64_t n, float m);
  // ⟨a, b⟩ over n floats.
  float (*dot)(const float* a, const float* b, int64_t n);
};

void ScoresScalar(const float* const* a, const float* const* b, int64_t nr, int64_t nc, int64_t D, float scale,
                  float* S, int64_t lds) {
  for (int64_t r = 0; r < nr; ++r)
    for (int64_t c = 0; c < nc; ++c) {
      float acc = 0;
      for (int64_t x = 0; x < D; ++x) acc += a[r][x] * b[c][x];
      S[r * lds + c] = acc * scale;
    }
}

void AccumScalar(float* const* c, int64_t nr, const float* A, int64_t ar, int64_t as, const float* const* b,
                 int64_t ns, int64_t D) {
  for (int64_t r = 0; r < nr; ++r)
    for (int64_t s = 0; s < ns; ++s) {
      const float w = A[r * ar + s * as];
      for (int64_t x = 0; x < D; ++x) c[r][x] += w * b[s][x];
    }
}

float RowMaxScalar(const float* s, int64_t n) {
  float m = s[0];
  for (int64_t i = 1; i < n; ++i) m = std::max(m, s[i]);
  return m;
}

float ExpRowScalar(float* s, int64_t lim, int64_t n, float m) {
  float sum = 0;
  for (int64_t i = 0; i < lim; ++i) {
    s[i] = std::exp(s[i] - m);
    sum += s[i];
  }
  for (int64_t i = lim; i < n; ++i) s[i] = 0;
  return sum;
}

float DotScalar(const float* a, const float* b, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

const Ops kScalarOps = {ScoresScalar, AccumScalar, RowMaxScalar, ExpRowScalar, DotScalar};

// Lanes [0, rem) set, for the ragged end of a D that is not a multiple of 8.
OLMO_AVX2 inline __m256i TailMask(int64_t rem) {
  static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits + 8 - rem));
}

// The four horizontal sums of a0..a3 as one 4-lane vector.
OLMO_AVX2 inline __m128 HSum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// NR query rows against NC keys: NR·NC accumulators, each step loads NR + NC vectors for NR·NC FMAs.
template <int NR, int NC>
OLMO_AVX2 inline void DotBlock(const float* const* a, const float* const* b, int64_t D, float scale, float* S,
                               int64_t lds) {
  __m256 acc[NR][NC];
  for (int r = 0; r < NR; ++r)
    for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    __m256 bv[NC];
    for (int c = 0; c < NC; ++c) bv[c] = _mm256_loadu_ps(b[c] + d);
    for (int r = 0; r < NR; ++r) {
      const __m256 av = _mm256_loadu_ps(a[r] + d);
      for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_fmadd_ps(av, bv[c], acc[r][c]);
    }
  }
  if (d < D) {
    const __m256i mask = TailMask(D - d);
    __m256 bv[NC];
    for (int c = 0; c < NC; ++c) bv[c] = _mm256_maskload_ps(b[c] + d, mask);
    for (int r = 0; r < NR; ++r) {
      const __m256 av = _mm256_maskload_ps(a[r] + d, mask);
      for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_fmadd_ps(av, bv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < NR; ++r) {
    if constexpr (NC % 4 == 0) {
      for (int c = 0; c < NC; c += 4) {
        const __m128 s = HSum4(acc[r][c], acc[r][c + 1], acc[r][c + 2], acc[r][c + 3]);
        _mm_storeu_ps(S + r * lds + c, _mm_mul_ps(s, _mm_set1_ps(scale)));
      }
    } else {
      // The same lane order as HSum4 (a key's score must not depend on whether it fell in a group of four, which
      // depends on where the query block ends: a prefill split at any token then gives bit-identical scores).
      const __m256 z = _mm256_setzero_ps();
      for (int c = 0; c < NC; ++c) S[r * lds + c] = _mm_cvtss_f32(HSum4(acc[r][c], z, z, z)) * scale;
    }
  }
}

OLMO_AVX2 void ScoresAvx2(const float* const* a, const float* const* b, int64_t nr, int64_t nc, int64_t D,
                          float scale, float* S, int64_t lds) {
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) {
    int64_t c = 0;
    for (; c + 4 <= nc; c += 4) DotBlock<2, 4>(a + r, b + c, D, scale, S + r * lds + c, lds);
    for (; c < nc; ++c) DotBlock<2, 1>(a + r, b + c, D, scale, S + r * lds + c, lds);
  }
  for (; r < nr; ++r) {
    // One row (decoding): eight keys at a time, eight FMA chains in flight (each key's sum as in fours).
    int64_t c = 0;
    for (; c + 8 <= nc; c += 8) DotBlock<1, 8>(a + r, b + c, D, scale, S + r * lds + c, lds);
    for (; c + 4 <= nc; c += 4) DotBlock<1, 4>(a + r, b + c, D, scale, S + r * lds + c, lds);
    for (; c < nc; ++c) DotBlock<1, 1>(a + r, b + c, D, scale, S + r * lds + c, lds);
  }
}

// NR output rows × NV·8 columns starting at x0, accumulated over ns source rows; a masked variant (NV = 1)
// takes the ragged last columns.
template <int NR, int NV, bool MASKED>
OLMO_AVX2 inline void AccBlock(float* const* c, const float* A, int64_t ar, int64_t as, const float* const* b,
                               int64_t ns, int64_t x0, __m256i mask) {
  __m256 acc[NR][NV];
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < NV; ++v)
      acc[r][v] = MASKED ? _mm256_maskload_ps(c[r] + x0, mask) : _mm256_loadu_ps(c[r] + x0 + 8 * v);
  for (int64_t s = 0; s < ns; ++s) {
    __m256 bv[NV];
    for (int v = 0; v < NV; ++v)
      bv[v] = MASKED ? _mm256_maskload_ps(b[s] + x0, mask) : _mm256_loadu_ps(b[s] + x0 + 8 * v);
    for (int r = 0; r < NR; ++r) {
      const __m256 w = _mm256_set1_ps(A[r * ar + s * as]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(w, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int v = 0; v < NV; ++v) {
      if (MASKED)
        _mm256_maskstore_ps(c[r] + x0, mask, acc[r][v]);
      else
        _mm256_storeu_ps(c[r] + x0 + 8 * v, acc[r][v]);
    }
}

template <int NR>
OLMO_AVX2 inline void AccRows(float* const* c, const float* A, int64_t ar, int64_t as, const float* const* b,
                              int64_t ns, int64_t D) {
  const __m256i none = _mm256_setzero_si256();
  int64_t x = 0;
  // One row (decoding): 64 columns at a time, eight FMA chains in flight (each column's sum is the same).
  if constexpr (NR == 1)
    for (; x + 64 <= D; x += 64) AccBlock<NR, 8, false>(c, A, ar, as, b, ns, x, none);
  for (; x + 32 <= D; x += 32) AccBlock<NR, 4, false>(c, A, ar, as, b, ns, x, none);
  for (; x + 8 <= D; x += 8) AccBlock<NR, 1, false>(c, A, ar, as, b, ns, x, none);
  if (x < D) AccBlock<NR, 1, true>(c, A, ar, as, b, ns, x, TailMask(D - x));
}

OLMO_AVX2 void AccumAvx2(float* const* c, int64_t nr, const float* A, int64_t ar, int64_t as,
                         const float* const* b, int64_t ns, int64_t D) {
  int64_t r = 0;
  for (; r + 2 <= nr; r += 2) AccRows<2>(c + r, A + r * ar, ar, as, b, ns, D);
  if (r < nr) AccRows<1>(c + r, A + r * ar, ar, as, b, ns, D);
}

OLMO_AVX2 float RowMaxAvx2(const float* s, int64_t n) {
  __m256 mv = _mm256_set1_ps(kNegInf);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, mv);
  float m = lanes[0];
  for (int l = 1; l < 8; ++l) m = std::max(m, lanes[l]);
  for (; i < n; ++i) m = std::max(m, s[i]);
  return m;
}

OLMO_AVX2 float ExpRowAvx2(float* s, int64_t lim, int64_t n, float m) {
  const __m256 mv = _mm256_set1_ps(m);
  __m256 sum = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= lim; i += 8) {
    const __m256 e = ExpClampedDeg6(_mm256_sub_ps(_mm256_loadu_ps(s + i), mv));
    _mm256_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < lim) {
    const __m256i mask = TailMask(lim - i);
    const __m256 e = _mm256_and_ps(ExpClampedDeg6(_mm256_sub_ps(_mm256_maskload_ps(s + i, mask), mv)),
                                   _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(s + i, mask, e);
    sum = _mm256_add_ps(sum, e);
    i = lim;
  }
  for (; i < n; ++i) s[i] = 0;
  return HSum(sum);
}

OLMO_AVX2 float DotAvx2(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  float s = HSum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

const Ops kAvx2Ops = {ScoresAvx2, AccumAvx2, RowMaxAvx2, ExpRowAvx2, DotAvx2};

const Ops& SelectOps() { return g_paths.UseAvx2() ? kAvx2Ops : kScalarOps; }

// ---------------------------------------------------------------------------------------------------------
// Problem description shared by forward and backward.

struct Problem {
  const float* q;
  const float* k;
  const float* v;
  const float* out_in;  // backward: the saved output
  float* out;           // forward output
  float* lse;           // forward output (null: not wanted, as in packedAttention) / backward input
  const float* gout;
  float* gq;
  float* gk;
  float* gv;
  const int32_t* kv_lens;  // null: all Tk
  // Forward only, a packed batch (packedAttention): sequence b's queries are tokens [q_starts[b], q_starts[b + 1])
  // of q and out ([tokens, Hq, D]), its keys and values row kv_rows[b] of k and v. Null: q is [B, Tq, Hq, D] and
  // sequence b reads row b.
  const int32_t* q_starts;
  const int32_t* kv_rows;
  const int32_t* valid_lens;  // forward only; null: every position is real (see ForwardBlock)
  int64_t B, Tq, Tk, Hq, Hkv, D, G;
  float scale;

  int64_t len(int64_t b) const { return kv_lens ? kv_lens[b] : Tk; }
  int64_t valid(int64_t b) const { return valid_lens ? valid_lens[b] : len(b); }
  // Query tokens of sequence b.
  int64_t tq(int64_t b) const { return q_starts ? q_starts[b + 1] - q_starts[b] : Tq; }
  // First query token of sequence b that sees key j (its position L − Tq + i ≥ j).
  int64_t first_token(int64_t b, int64_t j) const { return std::max<int64_t>(0, j - (len(b) - tq(b))); }
  int64_t q_off(int64_t b, int64_t i, int64_t h) const {
    return ((q_starts ? q_starts[b] + i : b * Tq + i) * Hq + h) * D;
  }
  int64_t kv_off(int64_t b, int64_t j, int64_t kvh) const {
    return (((kv_rows ? kv_rows[b] : b) * Tk + j) * Hkv + kvh) * D;
  }
  int64_t lse_off(int64_t b, int64_t i, int64_t h) const {
    return q_starts ? (q_starts[b] + i) * Hq + h : (b * Hq + h) * Tq + i;
  }
  // Query tokens per block, so that a block holds about kRowsTarget rows of the group.
  int64_t tokens_per_block() const { return std::max<int64_t>(1, kRowsTarget / std::max<int64_t>(G, 1)); }
};

// Rows of q, k, v in their [B, T, H, D] layout sit H·D floats apart; when H·D·4 is a multiple of 4 KiB
// (8 heads of 128, say) every row maps onto the same few L1 sets and a tile's rows evict one another.
// Rows that a kernel reuses are therefore first copied to contiguous scratch.
inline const float* PackRow(const float* src, float* dst, int64_t D) {
  std::memcpy(dst, src, sizeof(float) * D);
  return dst;
}

// Per-thread scratch, grown on demand and kept across calls.
struct Scratch {
  std::vector<float> s, dp, acc, m, l, dkv, pack;
  std::vector<const float*> qrow, krow, vrow, orow, gorow;
  std::vector<float*> accrow, dqrow, dkrow, dvrow;
  std::vector<int64_t> pos;
  std::vector<float> row_lse, row_d;

  void reserve(int64_t rows, int64_t D) {
    auto grow = [](auto& vec, int64_t n) {
      if (static_cast<int64_t>(vec.size()) < n) vec.resize(static_cast<size_t>(n));
    };
    grow(s, rows * kBk);
    grow(dp, rows * kBk);
    grow(acc, rows * D);
    grow(m, rows);
    grow(l, rows);
    grow(dkv, 2 * kBk * D);
    grow(pack, (2 * kBk + 2 * rows) * D);
    grow(qrow, rows);
    grow(orow, rows);
    grow(gorow, rows);
    grow(accrow, rows);
    grow(dqrow, rows);
    grow(pos, rows);
    grow(row_lse, rows);
    grow(row_d, rows);
    grow(krow, kBk);
    grow(vrow, kBk);
    grow(dkrow, kBk);
    grow(dvrow, kBk);
  }
};

thread_local Scratch tls_scratch;

// Runs fn(task) for task in [0, n) on nt threads, handing tasks out one at a time in order (callers sort
// the heaviest first), which balances the causal triangle's uneven blocks.
template <typename Fn>
void RunTasks(int64_t n, int nt, const Fn& fn) {
  if (n <= 0) return;
  nt = static_cast<int>(std::min<int64_t>(nt, n));
  if (nt <= 1) {
    for (int64_t t = 0; t < n; ++t) fn(t, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_run(nt, [&](int tid, int) {
    for (int64_t t = next.fetch_add(1); t < n; t = next.fetch_add(1)) fn(t, tid);
  });
}

int ThreadsFor(int64_t work) { return work < kMinParallelWork ? 1 : num_threads(); }

// ---------------------------------------------------------------------------------------------------------
// Forward.

struct FwdTask {
  int64_t b, kvh0, kvh1, i0, i1, cost;  // KV heads [kvh0, kvh1)
};

// The query rows of one KV head in a forward task: tokens [i0, i1) of sequence b with every query head of KV head
// kvh, as rows r0 .. r0 + R of the thread's scratch (rows ordered by position, so the last sees the most keys).
struct HeadRows {
  int64_t b, kvh, i0, i1, r0, R;
};

// Packs the rows' queries and starts their running max, sum and accumulator.
void BeginRows(const Problem& P, Scratch& sc, const HeadRows& h) {
  const int64_t G = P.G, D = P.D, L = P.len(h.b);
  for (int64_t i = h.i0; i < h.i1; ++i)
    for (int64_t hh = 0; hh < G; ++hh) {
      const int64_t r = h.r0 + (i - h.i0) * G + hh;
      sc.qrow[r] = PackRow(P.q + P.q_off(h.b, i, h.kvh * G + hh), sc.pack.data() + (2 * kBk + r) * D, D);
      sc.accrow[r] = sc.acc.data() + r * D;
      sc.pos[r] = L - P.tq(h.b) + i;
      sc.m[r] = kNegInf;
      sc.l[r] = 0;
    }
  std::fill(sc.acc.begin() + h.r0 * D, sc.acc.begin() + (h.r0 + h.R) * D, 0.0f);
}

// Keys [j0, j0 + kBk) (those below kend) for the rows: scores, the online softmax's update, the weighted values.
void StepRows(const Problem& P, const Ops& ops, Scratch& sc, const HeadRows& h, int64_t j0, int64_t kend) {
  const int64_t G = P.G, D = P.D, L = P.len(h.b), V = P.valid(h.b), R = h.R, i0 = h.i0;
  float* S = sc.s.data();
  const int64_t nc = std::min(kBk, kend - j0);
  const bool pack = R >= 4;  // decoding reads each key row for a handful of queries: no reuse to win
  for (int64_t c = 0; c < nc; ++c) {
    sc.krow[c] = P.k + P.kv_off(h.b, j0 + c, h.kvh);
    sc.vrow[c] = P.v + P.kv_off(h.b, j0 + c, h.kvh);
    if (pack) {
      sc.krow[c] = PackRow(sc.krow[c], sc.pack.data() + c * D, D);
      sc.vrow[c] = PackRow(sc.vrow[c], sc.pack.data() + (kBk + c) * D, D);
    } else {
      // Decoding reads each key and value row once, H·D floats after the previous position's: a stride the
      // hardware prefetcher follows poorly, so the tile's rows are asked for before scoring, all in flight at once.
      for (int64_t off = 0; off < D * 4; off += 64) {
        __builtin_prefetch(reinterpret_cast<const char*>(sc.krow[c]) + off, 0, 3);
        __builtin_prefetch(reinterpret_cast<const char*>(sc.vrow[c]) + off, 0, 3);
      }
    }
  }
  float** acc = sc.accrow.data() + h.r0;
  const float* const* q = sc.qrow.data() + h.r0;
  const int64_t* pos = sc.pos.data() + h.r0;
  float* m = sc.m.data() + h.r0;
  float* l = sc.l.data() + h.r0;
  const int64_t rs = std::max<int64_t>(0, P.first_token(h.b, j0) - i0) * G;  // rows before see no key here
  // Rows [rs, re) hold real tokens (positions below the sequence's valid length), the rest right padding.
  // Real rows score and sum only the keys this tile would hold if the input ended at the valid length: the
  // AVX2 scores sum a tile's last nc mod 4 keys in another lane order than the others, so without this a
  // row's numbers would depend on how much padding follows it. Without valid lengths re = R, nr = nc.
  const int64_t re = std::clamp<int64_t>((V - (L - P.tq(h.b)) - i0) * G, rs, R);
  const int64_t nr = std::min(nc, V - j0);
  if (re > rs) ops.scores(q + rs, sc.krow.data(), re - rs, nr, D, P.scale, S + rs * kBk, kBk);
  if (R > re) ops.scores(q + re, sc.krow.data(), R - re, nc, D, P.scale, S + re * kBk, kBk);
  for (int64_t r = rs; r < R; ++r) {
    float* srow = S + r * kBk;
    const int64_t lim = std::min(nc, pos[r] - j0 + 1);
    const float m_new = std::max(m[r], ops.row_max(srow, lim));
    const float psum = ops.exp_row(srow, lim, nc, m_new);
    if (m_new != m[r]) {
      // Rescale what was accumulated against the old max (nothing yet when the old max was −inf).
      const float alpha = m[r] == kNegInf ? 0.0f : std::exp(m[r] - m_new);
      if (l[r] != 0) {
        float* a = acc[r];
        for (int64_t x = 0; x < D; ++x) a[x] *= alpha;
      }
      l[r] *= alpha;
      m[r] = m_new;
    }
    l[r] += psum;
  }
  if (re > rs) ops.accum(acc + rs, re - rs, S + rs * kBk, kBk, 1, sc.vrow.data(), nr, D);
  if (R > re) ops.accum(acc + re, R - re, S + re * kBk, kBk, 1, sc.vrow.data(), nc, D);
}

// Writes the rows' outputs (and log-sum-exps).
void EndRows(const Problem& P, Scratch& sc, const HeadRows& h) {
  const int64_t G = P.G, D = P.D;
  for (int64_t i = h.i0; i < h.i1; ++i)
    for (int64_t hh = 0; hh < G; ++hh) {
      const int64_t r = h.r0 + (i - h.i0) * G + hh, head = h.kvh * G + hh;
      const float inv = 1.0f / sc.l[r];
      float* o = P.out + P.q_off(h.b, i, head);
      const float* a = sc.accrow[r];
      for (int64_t x = 0; x < D; ++x) o[x] = a[x] * inv;
      if (P.lse) P.lse[P.lse_off(h.b, i, head)] = sc.m[r] + std::log(sc.l[r]);
    }
}

// Query tokens [i0, i1) (all at positions ≥ 0) of sequence b, with every query head of KV heads [kvh0, kvh1).
// Each head's rows meet the keys tile by tile in increasing order, whatever the range: the heads of a range take
// each tile in turn (so that decoding, whose key rows of all heads at a position lie side by side, reads the cache
// in long runs rather than one head's rows at a stride), and a head's numbers are those it gets alone.
void ForwardBlock(const Problem& P, const Ops& ops, int64_t b, int64_t kvh0, int64_t kvh1, int64_t i0, int64_t i1) {
  const int64_t R = (i1 - i0) * P.G;
  Scratch& sc = tls_scratch;
  sc.reserve(R * (kvh1 - kvh0), P.D);
  const auto rows = [&](int64_t kvh) { return HeadRows{b, kvh, i0, i1, (kvh - kvh0) * R, R}; };
  for (int64_t kvh = kvh0; kvh < kvh1; ++kvh) BeginRows(P, sc, rows(kvh));
  const int64_t kend = P.len(b) - P.tq(b) + i1;  // keys seen by the block's last token
  for (int64_t j0 = 0; j0 < kend; j0 += kBk)
    for (int64_t kvh = kvh0; kvh < kvh1; ++kvh) StepRows(P, ops, sc, rows(kvh), j0, kend);
  for (int64_t kvh = kvh0; kvh < kvh1; ++kvh) EndRows(P, sc, rows(kvh));
}

void Forward(const Problem& P) {
  const Ops& ops = SelectOps();
  std::vector<FwdTask> tasks;
  int64_t work = 0;
  const int64_t tb = P.tokens_per_block();
  for (int64_t b = 0; b < P.B; ++b) {
    const int64_t L = P.len(b);
    const int64_t Tq = P.tq(b);
    const int64_t start = std::max<int64_t>(0, Tq - L);  // earlier queries have negative positions
    for (int64_t i = 0; i < start; ++i)
      for (int64_t h = 0; h < P.Hq; ++h) {
        std::fill_n(P.out + P.q_off(b, i, h), P.D, 0.0f);
        if (P.lse) P.lse[P.lse_off(b, i, h)] = kNegInf;
      }
    if (P.G == 0) continue;
    for (int64_t i0 = start; i0 < Tq; i0 += tb) {
      const int64_t i1 = std::min(Tq, i0 + tb);
      const int64_t keys = L - Tq + i1;  // keys seen by the block's last token
      const int64_t cost = keys * (i1 - i0) * P.G * (P.D + 1);
      // A block of a few query rows (decoding) takes several KV heads at once, as many as still leave a task per
      // thread (ForwardBlock); larger blocks one head each.
      const int64_t splits = (2 * num_threads() + P.B - 1) / P.B;  // at least two tasks per thread in all
      const int64_t per = (i1 - i0) * P.G >= 4 ? 1 : (P.Hkv + splits - 1) / splits;
      for (int64_t kvh = 0; kvh < P.Hkv; kvh += per)
        tasks.push_back({b, kvh, std::min(P.Hkv, kvh + per), i0, i1, cost * (std::min(P.Hkv, kvh + per) - kvh)});
      work += cost * P.Hkv;
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(), [](const FwdTask& a, const FwdTask& b) { return a.cost > b.cost; });
  RunTasks(static_cast<int64_t>(tasks.size()), ThreadsFor(work), [&](int64_t t, int) {
    const FwdTask& task = tasks[t];
    ForwardBlock(P, ops, task.b, task.kvh0, task.kvh1, task.i0, task.i1);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Backward.

// Where a task accumulates gq: row (token i, group head hh) at base + i·ld_tok + hh·D.
struct DqTarget {
  float* base;
  int64_t ld_tok;
};

// Keys [j0, j0 + nk) of KV head kvh in sequence b: writes their gk/gv rows, adds into gq via dq.
void BackwardBlock(const Problem& P, const Ops& ops, int64_t b, int64_t kvh, int64_t j0, int64_t nk,
                   DqTarget dq) {
  const int64_t G = P.G, D = P.D, L = P.len(b);
  const int64_t tb = P.tokens_per_block();
  Scratch& sc = tls_scratch;
  sc.reserve(tb * G, D);
  float* dk = sc.dkv.data();
  float* dvv = dk + kBk * D;
  std::fill_n(dk, 2 * kBk * D, 0.0f);
  for (int64_t c = 0; c < nk; ++c) {
    sc.krow[c] = PackRow(P.k + P.kv_off(b, j0 + c, kvh), sc.pack.data() + c * D, D);
    sc.vrow[c] = PackRow(P.v + P.kv_off(b, j0 + c, kvh), sc.pack.data() + (kBk + c) * D, D);
    sc.dkrow[c] = dk + c * D;
    sc.dvrow[c] = dvv + c * D;
  }
  float* S = sc.s.data();
  float* dS = sc.dp.data();
  for (int64_t i0 = P.first_token(b, j0); i0 < P.Tq; i0 += tb) {
    const int64_t i1 = std::min(P.Tq, i0 + tb);
    const int64_t R = (i1 - i0) * G;
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t hh = 0; hh < G; ++hh) {
        const int64_t r = (i - i0) * G + hh, h = kvh * G + hh;
        const int64_t off = P.q_off(b, i, h);
        sc.qrow[r] = PackRow(P.q + off, sc.pack.data() + (2 * kBk + r) * D, D);
        sc.gorow[r] = PackRow(P.gout + off, sc.pack.data() + (2 * kBk + tb * G + r) * D, D);
        sc.dqrow[r] = dq.base + i * dq.ld_tok + hh * D;
        sc.pos[r] = L - P.Tq + i;
        sc.row_lse[r] = P.lse[P.lse_off(b, i, h)];
        sc.row_d[r] = ops.dot(P.gout + off, P.out_in + off, D);  // D_i = rowsum(gOut ⊙ out)
      }
    // P = exp(scale·q·kᵀ − lse), masked to the keys each row sees.
    ops.scores(sc.qrow.data(), sc.krow.data(), R, nk, D, P.scale, S, kBk);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t lim = std::min(nk, sc.pos[r] - j0 + 1);
      if (sc.row_lse[r] == kNegInf)  // only for inconsistent inputs: such a row has no probability mass
        ops.exp_row(S + r * kBk, 0, nk, 0);
      else
        ops.exp_row(S + r * kBk, lim, nk, sc.row_lse[r]);
    }
    ops.accum(sc.dvrow.data(), nk, S, 1, kBk, sc.gorow.data(), R, D);  // gv += Pᵀ·gOut
    ops.scores(sc.gorow.data(), sc.vrow.data(), R, nk, D, 1.0f, dS, kBk);  // dP = gOut·vᵀ
    for (int64_t r = 0; r < R; ++r) {
      const float* p = S + r * kBk;
      float* ds = dS + r * kBk;
      const float dr = sc.row_d[r];
      for (int64_t c = 0; c < nk; ++c) ds[c] = p[c] * (ds[c] - dr) * P.scale;  // scale folded into dS
    }
    ops.accum(sc.dqrow.data(), R, dS, kBk, 1, sc.krow.data(), nk, D);  // gq += dS·k
    ops.accum(sc.dkrow.data(), nk, dS, 1, kBk, sc.qrow.data(), R, D);  // gk += dSᵀ·q
  }
  for (int64_t c = 0; c < nk; ++c) {
    std::memcpy(P.gk + P.kv_off(b, j0 + c, kvh), dk + c * D, sizeof(float) * D);
    std::memcpy(P.gv + P.kv_off(b, j0 + c, kvh), dvv + c * D, sizeof(float) * D);
  }
}

// gk/gv rows of keys no query can use (j ≥ kvLens[b]; all of them without query heads) are zero.
void ZeroUnusedKv(const Problem& P, int64_t b, int64_t kvh) {
  const int64_t from = P.G == 0 ? 0 : P.len(b);
  for (int64_t j = from; j < P.Tk; ++j) {
    std::fill_n(P.gk + P.kv_off(b, j, kvh), P.D, 0.0f);
    std::fill_n(P.gv + P.kv_off(b, j, kvh), P.D, 0.0f);
  }
}

void Backward(const Problem& P) {
  const Ops& ops = SelectOps();
  const int64_t groups = P.B * P.Hkv;
  std::vector<int64_t> order(static_cast<size_t>(groups));
  std::vector<int64_t> cost(static_cast<size_t>(groups));
  int64_t work = 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t L = P.len(g / P.Hkv);
    const int64_t seen = std::min(L, P.Tq);  // queries with keys; ≈ L·seen − seen²/2 pairs
    cost[g] = (L * seen - seen * seen / 2 + 1) * P.G * (P.D + 1);
    work += cost[g] * 5 / 2;
    order[g] = g;
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cost[a] > cost[b]; });
  const int nt = ThreadsFor(work);
  const int64_t dq_rows = P.Tq * P.G * P.D;  // gq floats of one group
  auto whole_group = [&](int64_t g, DqTarget dq) {
    const int64_t b = g / P.Hkv, kvh = g % P.Hkv;
    for (int64_t j0 = 0; j0 < P.len(b) && P.G > 0; j0 += kBk)
      BackwardBlock(P, ops, b, kvh, j0, std::min(kBk, P.len(b) - j0), dq);
    ZeroUnusedKv(P, b, kvh);
  };
  auto zero_group_gq = [&](int64_t b, int64_t kvh) {
    for (int64_t i = 0; i < P.Tq; ++i) std::fill_n(P.gq + P.q_off(b, i, kvh * P.G), P.G * P.D, 0.0f);
  };

  if (nt <= 1 || groups >= 4 * nt || groups % nt == 0) {
    // Enough similar groups to keep every thread busy: a group's gq rows belong to one thread.
    RunTasks(groups, nt, [&](int64_t t, int) {
      const int64_t g = order[t], b = g / P.Hkv, kvh = g % P.Hkv;
      zero_group_gq(b, kvh);
      whole_group(g, DqTarget{P.gq + P.q_off(b, 0, kvh * P.G), P.Hq * P.D});
    });
    return;
  }
  // Few groups (MQA, a single sequence): spread each group's key tiles over threads, each summing gq into
  // its own buffer. Threads are limited so those buffers stay under ~256 MiB.
  const int64_t cap = std::max<int64_t>(1, (int64_t{64} << 20) / std::max<int64_t>(dq_rows, 1));
  const int ntb = static_cast<int>(std::min<int64_t>(nt, cap));
  std::vector<std::vector<float>> partial(static_cast<size_t>(ntb), std::vector<float>(dq_rows));
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t b = g / P.Hkv, kvh = g % P.Hkv, L = P.len(b);
    zero_group_gq(b, kvh);
    if (P.G == 0 || L == 0) {
      ZeroUnusedKv(P, b, kvh);
      continue;
    }
    for (auto& buf : partial) std::fill(buf.begin(), buf.end(), 0.0f);
    const int64_t tiles = (L + kBk - 1) / kBk;
    RunTasks(tiles, ntb, [&](int64_t t, int tid) {
      const int64_t j0 = t * kBk;
      BackwardBlock(P, ops, b, kvh, j0, std::min(kBk, L - j0), DqTarget{partial[tid].data(), P.G * P.D});
    });
    for (const auto& buf : partial)
      for (int64_t i = 0; i < P.Tq; ++i) {
        float* dst = P.gq + P.q_off(b, i, kvh * P.G);
        const float* src = buf.data() + i * P.G * P.D;
        for (int64_t x = 0; x < P.G * P.D; ++x) dst[x] += src[x];
      }
    ZeroUnusedKv(P, b, kvh);
  }
}

// ---------------------------------------------------------------------------------------------------------
// N-API entry points.

// Reads the shape object and kvLens; fills P's sizes.
void ReadSizes(const Args& A, Problem& P) {
  const Napi::CallbackInfo& info = A.info();
  const char* op = A.op();
  P.B = A.FieldSize("shape", "batch");
  P.Tq = A.FieldSize("shape", "tq");
  P.Tk = A.FieldSize("shape", "tk");
  P.Hq = A.FieldSize("shape", "hq");
  P.Hkv = A.FieldSize("shape", "hkv");
  P.D = A.FieldSize("shape", "d");
  P.scale = static_cast<float>(A.FieldNum("shape", "scale"));
  if (P.Hkv == 0 ? P.Hq != 0 : P.Hq % P.Hkv != 0)
    throw ArgError(info, op, "hq (" + std::to_string(P.Hq) + ") must be a multiple of hkv (" +
                                 std::to_string(P.Hkv) + ")");
  P.G = P.Hkv == 0 ? 0 : P.Hq / P.Hkv;
  P.kv_lens = A.OptI32("kvLens", P.B);
  if (P.kv_lens == nullptr) return;
  for (int64_t b = 0; b < P.B; ++b)
    if (P.kv_lens[b] < 0 || P.kv_lens[b] > P.Tk)
      throw ArgError(info, op, "kvLens[" + std::to_string(b) + "] = " + std::to_string(P.kv_lens[b]) +
                                   " is outside [0, " + std::to_string(P.Tk) + "]");
}

// The forward's optional shape.validLens (Int32Array [B], each in [0, kvLens[b]]), or null when absent.
const int32_t* ReadValidLens(const Args& A, const Problem& P) {
  const Napi::Value v = A.Field("shape", "validLens");
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  const Napi::CallbackInfo& info = A.info();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()) < P.B)
    throw ArgError(info, A.op(), "shape.validLens must be an Int32Array of " + std::to_string(P.B) + " elements");
  const int32_t* lens = v.As<Napi::Int32Array>().Data();
  for (int64_t b = 0; b < P.B; ++b)
    if (lens[b] < 0 || lens[b] > P.len(b))
      throw ArgError(info, A.op(), "shape.validLens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                                       " is outside [0, " + std::to_string(P.len(b)) + "]");
  return lens;
}

// Element counts of the q-shaped, k/v-shaped and lse arrays (overflow-checked).
struct Sizes {
  int64_t q, kv, lse;
};

// Reads the sizes and kvLens (ReadSizes), then q, k, v (arguments 0-2), which both directions take first.
Sizes ReadProblem(const Args& A, Problem& P) {
  const Napi::CallbackInfo& info = A.info();
  const char* op = A.op();
  ReadSizes(A, P);
  Sizes n;
  n.q = CheckedMul(info, op, CheckedMul(info, op, CheckedMul(info, op, P.B, P.Tq), P.Hq), P.D);
  n.kv = CheckedMul(info, op, CheckedMul(info, op, CheckedMul(info, op, P.B, P.Tk), P.Hkv), P.D);
  n.lse = CheckedMul(info, op, CheckedMul(info, op, P.B, P.Hq), P.Tq);
  P.q = A.F32("q", n.q);
  P.k = A.F32("k", n.kv);
  P.v = A.F32("v", n.kv);
  return n;
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  const Args A(info);
  Problem P{};
  const Sizes n = ReadProblem(A, P);
  P.out = A.F32("out", n.q);
  P.lse = A.F32("lse", n.lse);
  P.valid_lens = ReadValidLens(A, P);
  Forward(P);
  return info.Env().Undefined();
}

// Attention over a packed batch (a serving step: several sequences' new tokens back to back, each continuing its
// own row of the KV cache) in one call: sequence p's queries are tokens [starts[p], starts[p + 1]) of q and out
// ([tokens, hq, d]), its keys and values the first kvLens[p] positions of row slots[p] of k and v ([rows, tk,
// hkv, d]), the queries being its last positions. Every query gets the numbers a call for its sequence alone
// gives (the same ForwardBlock), and the call spreads all sequences' heads over the threads at once.
Napi::Value PackedAttention(const Napi::CallbackInfo& info) {
  const Args A(info);
  const char* op = A.op();
  Problem P{};
  P.B = A.Size("pieces");
  P.Tk = A.Size("tk");
  P.Hq = A.Size("hq");
  P.Hkv = A.Size("hkv");
  P.D = A.Size("d");
  P.scale = static_cast<float>(A.Num("scale"));
  if (P.Hkv == 0 || P.Hq % P.Hkv != 0)
    throw ArgError(info, op, "hq (" + std::to_string(P.Hq) + ") must be a positive multiple of hkv (" +
                                 std::to_string(P.Hkv) + ")");
  P.G = P.Hq / P.Hkv;
  P.q_starts = A.I32("starts", P.B + 1);
  P.kv_rows = A.I32("slots", P.B);
  P.kv_lens = A.I32("kvLens", P.B);
  if (P.q_starts[0] != 0) throw ArgError(info, op, "starts[0] must be 0, got " + std::to_string(P.q_starts[0]));
  int64_t rows = 0;
  for (int64_t b = 0; b < P.B; ++b) {
    const std::string at = "[" + std::to_string(b) + "]";
    if (P.q_starts[b + 1] < P.q_starts[b])
      throw ArgError(info, op, "starts must not decrease: starts" + at + " = " + std::to_string(P.q_starts[b]) +
                                   ", the next " + std::to_string(P.q_starts[b + 1]));
    if (P.kv_rows[b] < 0) throw ArgError(info, op, "slots" + at + " = " + std::to_string(P.kv_rows[b]) + " < 0");
    if (P.kv_lens[b] < P.tq(b) || P.kv_lens[b] > P.Tk)
      throw ArgError(info, op, "kvLens" + at + " = " + std::to_string(P.kv_lens[b]) + " is outside [" +
                                   std::to_string(P.tq(b)) + ", " + std::to_string(P.Tk) + "] (its tokens, tk)");
    rows = std::max<int64_t>(rows, P.kv_rows[b] + 1);
  }
  const int64_t tokens = P.q_starts[P.B];
  const int64_t nq = CheckedMul(info, op, CheckedMul(info, op, tokens, P.Hq), P.D);
  const int64_t nkv = CheckedMul(info, op, CheckedMul(info, op, CheckedMul(info, op, rows, P.Tk), P.Hkv), P.D);
  P.q = A.F32("q", nq);
  P.k = A.F32("k", nkv);
  P.v = A.F32("v", nkv);
  P.out = A.F32("out", nq);
  P.lse = nullptr;  // inference has no backward
  Forward(P);
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const Args A(info);
  Problem P{};
  const Sizes n = ReadProblem(A, P);
  P.out_in = A.F32("out", n.q);
  P.lse = A.F32("lse", n.lse);
  P.gout = A.F32("gOut", n.q);
  P.gq = A.F32("gq", n.q);
  P.gk = A.F32("gk", n.kv);
  P.gv = A.F32("gv", n.kv);
  Backward(P);
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  static const KernelDef kKernels[] = {
      {"attention", "q:f32 k:f32 v:f32 out:f32 lse:f32 kvLens:i32? shape:AttentionShape", Attention},
      {"attentionBackward", "q:f32 k:f32 v:f32 out:f32 lse:f32 gOut:f32 gq:f32 gk:f32 gv:f32 kvLens:i32? shape:AttentionShape", AttentionBackward},
      {"packedAttention", "q:f32 k:f32 v:f32 out:f32 slots:i32 starts:i32 kvLens:i32 pieces:size tk:size hq:size hkv:size d:size scale:num", PackedAttention},
  };
  RegisterKernels(env, exports, kKernels);
  g_paths.RegisterHook(env, exports);
}

}  // namespace olmo
