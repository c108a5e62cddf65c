// Batched matrix product for software adapters: C[z] = op(A[z]) · op(B[z]), as matmul.wgsl, but
// with no workgroup memory and no barrier. Each invocation reads its operands straight from the
// storage buffers and computes an 8×8 block of C: eight rows, each two vec4 accumulators.
//
// Why: a software adapter (llvmpipe) runs a workgroup's invocations in 8-wide SIMD lanes on a CPU
// thread, where a workgroupBarrier splits the shader into resumable pieces and workgroup memory is
// one more copy in the CPU's cache; what costs is the number of loads and the arithmetic around
// them. Here every load of A is an aligned vec4 with no bounds test, and every index is a
// constant once the loops are unrolled. On a hardware GPU the tiled matmul.wgsl is the right one.
//
// Ragged shapes: M and N need not be multiples of 8. The last blocks read past the last row or
// column (into the next row, or clamped by WebGPU's bounds rule at the buffer's end), and those
// values only reach accumulators of rows and columns that are not stored: each output's sum reads
// its own row of A and column of B alone. B and C need not be vec4-aligned (GPT-2's W_U [768,
// 50257]): then they are read and written a float at a time (ALIGN_B, ALIGN_C false), which a
// SIMD-across-invocations adapter gathers as it gathers a vec4's four components.
//
// Letters: M rows of C, N columns of C, K the contracted length, Z the batch; A is [M, K] (or
// [K, M] stored, with TRANS_A), B is [K, N] (or [N, K] stored, with TRANS_B), C is [M, N]. Offsets,
// row strides (LD*) and batch strides are given in floats and counted below in each operand's
// unit: vec4s, or floats for an unaligned B or C. TRANS_A with TRANS_B is not taken.
//
// Members (G > 1, models trained together): the Z products repeat for each member g, each operand
// OUTER_* floats further on, as in matmul.wgsl.
//
// Mapping: invocation id → block (g, z, rb, cb), column blocks fastest, so the eight lanes of a SIMD
// group share A's rows (where N ≥ 64) and read neighbouring vec4s of B.

const M: u32 = {{M}}u;
const N: u32 = {{N}}u;
const K: u32 = {{K}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const ALIGN_B: bool = {{ALIGN_B}};
const ALIGN_C: bool = {{ALIGN_C}};
const UNIT_B: u32 = select(1u, 4u, ALIGN_B); // floats in one unit of B's indices
const UNIT_C: u32 = select(1u, 4u, ALIGN_C);
const OFF_A: u32 = {{OFF_A}}u / 4u; // in vec4s
const OFF_B: u32 = {{OFF_B}}u / UNIT_B; // in B's units
const OFF_C: u32 = {{OFF_C}}u / UNIT_C; // in C's units
const LDA: u32 = {{LDA}}u / 4u;
const LDB: u32 = {{LDB}}u / UNIT_B;
const LDC: u32 = {{LDC}}u / UNIT_C;
const STRIDE_A: u32 = {{STRIDE_A}}u / 4u;
const STRIDE_B: u32 = {{STRIDE_B}}u / UNIT_B;
const STRIDE_C: u32 = {{STRIDE_C}}u / UNIT_C;
const Z: u32 = {{Z}}u;
const G: u32 = {{G}}u; // members
const OUTER_A: u32 = {{OUTER_A}}u / 4u; // in vec4s
const OUTER_B: u32 = {{OUTER_B}}u / UNIT_B; // in B's units
const OUTER_C: u32 = {{OUTER_C}}u / UNIT_C;

const WG: u32 = 64u;
const NB: u32 = (N + 7u) / 8u; // column blocks, the last one ragged where N % 8 > 0
const MB: u32 = (M + 7u) / 8u; // row blocks
const V_B: u32 = 4u / UNIT_B; // B's units in four floats
const V_C: u32 = 4u / UNIT_C;

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;       // [Z, M, K] or [Z, K, M]
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;       // [Z, K, N] or [Z, N, K]
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>; // [G, Z, M, N]

// Row i's two vec4 accumulators are (*acc)[2i] (columns 0..3) and (*acc)[2i + 1] (columns 4..7).
alias Acc = array<vec4<f32>, 16>;

// Four floats of B from index i (in B's units): one vec4, or four floats where B is unaligned.
fn loadB(i: u32) -> vec4<f32> {
  if (ALIGN_B) { return B[i]; }
  return vec4<f32>(B[i >> 2u][i & 3u], B[(i + 1u) >> 2u][(i + 1u) & 3u],
    B[(i + 2u) >> 2u][(i + 2u) & 3u], B[(i + 3u) >> 2u][(i + 3u) & 3u]);
}

// Writes the first `cols` of v at index i (in C's units): one vec4 where all four are in and C is
// aligned, else float by float.
fn storeC(i: u32, v: vec4<f32>, cols: u32) {
  if (ALIGN_C && cols >= 4u) {
    C[i] = v;
    return;
  }
  for (var e = 0u; e < 4u; e++) {
    let f = i * UNIT_C + e;
    if (e < cols) { C[f >> 2u][f & 3u] = v[e]; }
  }
}

// Row i of the block at c0 (columns 0..3 in lo, 4..7 in hi), if it is one of the `rows` in C.
fn storeRow(c0: u32, i: u32, lo: vec4<f32>, hi: vec4<f32>, rows: u32, cols: u32) {
  if (i >= rows) { return; }
  storeC(c0 + i * LDC, lo, cols);
  if (cols > 4u) { storeC(c0 + i * LDC + V_C, hi, cols - 4u); }
}

// Without TRANS_A: four k at a time, a vec4 along k from each of the eight rows of A.
// Without TRANS_B, B's four rows k..k+3 give two vec4s each; with it, each of the eight columns is
// a row of the stored B, read as a vec4 along k, and the product is a dot.
fn stepK4(acc: ptr<function, Acc>, a0: u32, b0: u32, k4: u32) {
  var a: array<vec4<f32>, 8>;
  for (var i = 0u; i < 8u; i++) { a[i] = A[a0 + i * LDA + k4]; }
  if (TRANS_B) {
    var b: array<vec4<f32>, 8>;
    for (var j = 0u; j < 8u; j++) { b[j] = loadB(b0 + j * LDB + k4 * V_B); }
    for (var i = 0u; i < 8u; i++) {
      (*acc)[2u * i] += vec4<f32>(dot(a[i], b[0]), dot(a[i], b[1]), dot(a[i], b[2]), dot(a[i], b[3]));
      (*acc)[2u * i + 1u] +=
        vec4<f32>(dot(a[i], b[4]), dot(a[i], b[5]), dot(a[i], b[6]), dot(a[i], b[7]));
    }
  } else {
    var b: array<vec4<f32>, 8>; // b[2e], b[2e + 1]: row k + e, columns 0..3 and 4..7
    for (var e = 0u; e < 4u; e++) {
      b[2u * e] = loadB(b0 + (4u * k4 + e) * LDB);
      b[2u * e + 1u] = loadB(b0 + (4u * k4 + e) * LDB + V_B);
    }
    for (var i = 0u; i < 8u; i++) {
      let ai = a[i];
      (*acc)[2u * i] = fma(vec4<f32>(ai.w), b[6], fma(vec4<f32>(ai.z), b[4],
        fma(vec4<f32>(ai.y), b[2], fma(vec4<f32>(ai.x), b[0], (*acc)[2u * i]))));
      (*acc)[2u * i + 1u] = fma(vec4<f32>(ai.w), b[7], fma(vec4<f32>(ai.z), b[5],
        fma(vec4<f32>(ai.y), b[3], fma(vec4<f32>(ai.x), b[1], (*acc)[2u * i + 1u]))));
    }
  }
}

// With TRANS_A: one k at a time, A's row k holds this block's eight rows as two vec4s.
fn stepTransA(acc: ptr<function, Acc>, a0: u32, b0: u32, k: u32) {
  let a = array<vec4<f32>, 2>(A[a0 + k * LDA], A[a0 + k * LDA + 1u]);
  let b = array<vec4<f32>, 2>(loadB(b0 + k * LDB), loadB(b0 + k * LDB + V_B));
  for (var i = 0u; i < 8u; i++) {
    let ai = vec4<f32>(a[i / 4u][i % 4u]);
    (*acc)[2u * i] = fma(ai, b[0], (*acc)[2u * i]);
    (*acc)[2u * i + 1u] = fma(ai, b[1], (*acc)[2u * i + 1u]);
  }
}

@compute @workgroup_size(WG)
fn matmul_direct(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= G * Z * MB * NB) { return; }
  let cb = id % NB;
  let rb = (id / NB) % MB;
  let z = (id / (NB * MB)) % Z;
  let g = id / (NB * MB * Z);
  // Where this block's operands start: A's first row (or, with TRANS_A, its first column pair of
  // row 0), B's first column pair of row 0 (or, with TRANS_B, its first row).
  let a0 = OFF_A + g * OUTER_A + z * STRIDE_A + select(rb * 8u * LDA, rb * 2u, TRANS_A);
  let b0 = OFF_B + g * OUTER_B + z * STRIDE_B + select(cb * 2u * V_B, cb * 8u * LDB, TRANS_B);
  var acc: Acc;
  if (TRANS_A) {
    for (var k = 0u; k < K; k++) { stepTransA(&acc, a0, b0, k); }
  } else {
    for (var k4 = 0u; k4 < K / 4u; k4++) { stepK4(&acc, a0, b0, k4); }
  }
  let c0 = OFF_C + g * OUTER_C + z * STRIDE_C + rb * 8u * LDC + cb * 2u * V_C;
  let rows = min(8u, M - rb * 8u);
  let cols = min(8u, N - cb * 8u);
  // Written out rather than looped: acc's indices stay constants, so acc stays in registers (one
  // index computed at run time would put all of acc in memory, for the K loop too).
  storeRow(c0, 0u, acc[0], acc[1], rows, cols);
  storeRow(c0, 1u, acc[2], acc[3], rows, cols);
  storeRow(c0, 2u, acc[4], acc[5], rows, cols);
  storeRow(c0, 3u, acc[6], acc[7], rows, cols);
  storeRow(c0, 4u, acc[8], acc[9], rows, cols);
  storeRow(c0, 5u, acc[10], acc[11], rows, cols);
  storeRow(c0, 6u, acc[12], acc[13], rows, cols);
  storeRow(c0, 7u, acc[14], acc[15], rows, cols);
}
