// Batched matrix product, specialised to its shapes: C[z] = op(A[z]) · op(B[z]), op = identity or
// transpose. Every product of training is one of these: the projections (x·W), their input
// gradients (dy·Wᵀ) and their weight gradients (xᵀ·dy, split along K where K is long).
//
// Letters: M rows of C, N columns of C, K the contracted length, Z the batch. A is [M, K] (or
// [K, M] stored, with TRANS_A), B is [K, N] (or [N, K] stored, with TRANS_B), C is [M, N]; each
// has an element offset, a leading dimension (row stride) and a batch stride (0 broadcasts), so
// heads can be read out of [batch, pos, head, d_head] without a copy.
//
// Tiling: a workgroup computes a BM×BN tile of C from BK-deep slices of A and B staged in
// workgroup memory; each invocation holds TM×TN accumulators in registers, in vec4 groups spread
// BN/TN·4 columns apart so that neighbouring invocations read neighbouring words. Global loads are
// vec4 along each operand's contiguous dimension when ALIGN_A/ALIGN_B say every such group starts
// on a 16-byte boundary; otherwise, and at ragged edges, scalar loads with bounds checks. All
// bounds tests compare constants, so a shape that divides the tiles compiles them away.
//
// Members (G > 1, models trained together): the Z products repeat for each member g, each operand
// OUTER_* elements further on: workgroup z = g·Z + batch.
//
// Split-K (SPLIT > 1): workgroup z = s·Z + batch sums only its K chunk and writes a partial product
// to C[s, batch] ([SPLIT, Z, M, N]); reduce.wgsl's sum_rows adds the partials in a fixed order.

const M: u32 = {{M}}u;
const N: u32 = {{N}}u;
const K: u32 = {{K}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const OFF_A: u32 = {{OFF_A}}u;
const OFF_B: u32 = {{OFF_B}}u;
const OFF_C: u32 = {{OFF_C}}u;
const LDA: u32 = {{LDA}}u;
const LDB: u32 = {{LDB}}u;
const LDC: u32 = {{LDC}}u;
const STRIDE_A: u32 = {{STRIDE_A}}u;
const STRIDE_B: u32 = {{STRIDE_B}}u;
const STRIDE_C: u32 = {{STRIDE_C}}u;
const ALIGN_A: bool = {{ALIGN_A}};
const ALIGN_B: bool = {{ALIGN_B}};
const ALIGN_C: bool = {{ALIGN_C}};
const OUTER_A: u32 = {{OUTER_A}}u;
const OUTER_B: u32 = {{OUTER_B}}u;
const OUTER_C: u32 = {{OUTER_C}}u;
const Z: u32 = {{Z}}u;
const G: u32 = {{G}}u;                // members
const SPLIT: u32 = {{SPLIT}}u;
const K_CHUNK: u32 = {{K_CHUNK}}u; // a multiple of BK

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const TX: u32 = BN / TN; // invocations across a tile's columns
const TY: u32 = BM / TM; // and down its rows
const THREADS: u32 = TX * TY;

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;       // [Z, M, K] or [Z, K, M]
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;       // [Z, K, N] or [Z, N, K]
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>; // [Z·SPLIT, M, N]

var<workgroup> As: array<vec4<f32>, BK * BM / 4u>; // [BK, BM]: k-major, so rows come in vec4s
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>; // [BK, BN]

fn scalarA(i: u32) -> f32 { return A[i >> 2u][i & 3u]; }
fn scalarB(i: u32) -> f32 { return B[i >> 2u][i & 3u]; }

// Four elements of a flat operand starting at `i`, of which the first `valid` are in bounds.
fn load4A(i: u32, valid: u32) -> vec4<f32> {
  if (ALIGN_A && valid >= 4u) { return A[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < min(valid, 4u); e++) { v[e] = scalarA(i + e); }
  return v;
}
fn load4B(i: u32, valid: u32) -> vec4<f32> {
  if (ALIGN_B && valid >= 4u) { return B[i >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < min(valid, 4u); e++) { v[e] = scalarB(i + e); }
  return v;
}

// Stages A[z][m0.., k0..] into As[k][m]: four consecutive elements along A's contiguous dimension
// per load (k without TRANS_A, m with it).
fn stageA(z: u32, m0: u32, k0: u32, kEnd: u32, lid: u32) {
  let base = OFF_A + (z / Z) * OUTER_A + (z % Z) * STRIDE_A;
  for (var c = lid; c < BM * BK / 4u; c += THREADS) {
    if (TRANS_A) {
      let kk = c / (BM / 4u);
      let r = (c % (BM / 4u)) * 4u;
      let k = k0 + kk;
      var v = vec4<f32>(0.0);
      if (k < kEnd && m0 + r < M) { v = load4A(base + k * LDA + m0 + r, M - m0 - r); }
      As[kk * (BM / 4u) + r / 4u] = v;
    } else {
      let r = c / (BK / 4u);
      let kk = (c % (BK / 4u)) * 4u;
      let m = m0 + r;
      var v = vec4<f32>(0.0);
      if (m < M && k0 + kk < kEnd) { v = load4A(base + m * LDA + k0 + kk, kEnd - k0 - kk); }
      for (var e = 0u; e < 4u; e++) { As[(kk + e) * (BM / 4u) + r / 4u][r % 4u] = v[e]; }
    }
  }
}

// Stages B[z][k0.., n0..] into Bs[k][n].
fn stageB(z: u32, n0: u32, k0: u32, kEnd: u32, lid: u32) {
  let base = OFF_B + (z / Z) * OUTER_B + (z % Z) * STRIDE_B;
  for (var c = lid; c < BN * BK / 4u; c += THREADS) {
    if (TRANS_B) {
      let col = c / (BK / 4u);
      let kk = (c % (BK / 4u)) * 4u;
      let n = n0 + col;
      var v = vec4<f32>(0.0);
      if (n < N && k0 + kk < kEnd) { v = load4B(base + n * LDB + k0 + kk, kEnd - k0 - kk); }
      for (var e = 0u; e < 4u; e++) { Bs[(kk + e) * (BN / 4u) + col / 4u][col % 4u] = v[e]; }
    } else {
      let kk = c / (BN / 4u);
      let col = (c % (BN / 4u)) * 4u;
      let k = k0 + kk;
      var v = vec4<f32>(0.0);
      if (k < kEnd && n0 + col < N) { v = load4B(base + k * LDB + n0 + col, N - n0 - col); }
      Bs[kk * (BN / 4u) + col / 4u] = v;
    }
  }
}

@compute @workgroup_size(THREADS)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * BN;
  let m0 = wid.y * BM;
  let z = wid.z % (Z * G); // g·Z + batch
  let s = wid.z / (Z * G);
  let kBegin = s * K_CHUNK;
  let kEnd = min(K, kBegin + K_CHUNK);
  let tx = lid % TX;
  let ty = lid / TX;

  // acc[i][j]: row i of this invocation's TM rows, columns j·4·TX + 4·tx + (0..3).
  var acc: array<array<vec4<f32>, TN / 4u>, TM>;
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    stageA(z, m0, k0, kEnd, lid);
    stageB(z, n0, k0, kEnd, lid);
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<vec4<f32>, TM / 4u>;
      for (var i = 0u; i < TM / 4u; i++) { a[i] = As[kk * (BM / 4u) + i * TY + ty]; }
      var b: array<vec4<f32>, TN / 4u>;
      for (var j = 0u; j < TN / 4u; j++) { b[j] = Bs[kk * (BN / 4u) + j * TX + tx]; }
      for (var i = 0u; i < TM; i++) {
        let ai = vec4<f32>(a[i / 4u][i % 4u]);
        for (var j = 0u; j < TN / 4u; j++) { acc[i][j] = fma(ai, b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }

  let base = OFF_C + (z / Z) * OUTER_C + (wid.z - (z / Z) * Z) * STRIDE_C;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + (i / 4u) * 4u * TY + ty * 4u + i % 4u;
    if (m >= M) { continue; }
    for (var j = 0u; j < TN / 4u; j++) {
      let n = n0 + j * 4u * TX + tx * 4u;
      let at = base + m * LDC + n;
      if (ALIGN_C && n + 4u <= N) {
        C[at >> 2u] = acc[i][j];
      } else {
        for (var e = 0u; e < 4u; e++) {
          if (n + e < N) { C[(at + e) >> 2u][(at + e) & 3u] = acc[i][j][e]; }
        }
      }
    }
  }
}
