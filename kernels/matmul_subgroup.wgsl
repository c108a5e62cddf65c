// Batched matrix product for software adapters with 8-wide subgroups: C[z] = op(A[z]) · op(B[z]),
// as matmul_direct.wgsl, but a workgroup (one subgroup of 8 lanes) computes a TILE×64 tile of C
// (TILE 128 or 64 rows), each lane eight columns of all its rows (CV = 2 vec4s), or a TILE×32 tile,
// four columns a lane (CV = 1: an attention head's 32 columns), and A's values reach the lanes by
// subgroupBroadcast.
//
// Why: on llvmpipe every float a lane loads from a storage buffer costs the same, vec4 or not
// (about 4× a scalar load per vec4; measured), and costs far more than an fma, while a broadcast
// between lanes is a register move. matmul_direct.wgsl's lanes each load their own 8 rows of A and
// 8 columns of B: 16 floats a k for 64 fmas. Here a lane loads 8 floats of A (one eighth of a
// 64-row tile's rows, shared by broadcast) and its 8 floats of B a k for 512 fmas: 8× fewer loads a
// flop; a 128-row tile loads 24 for 1,024 fmas. The accumulators (TILE·4·CV floats a lane) live in
// the thread's stack, which is cheap beside the loads. About 3× matmul_direct.wgsl on tinygpt's
// MLP products, 2.3× on its per-head products in 32-column tiles; 32-column tiles are slower than
// 64 where N allows both, 128 rows mostly faster than 64 (bench/RESULTS.md).
//
// Shapes: M a multiple of TILE, N of 32·CV (whole tiles, every lane active: broadcasts need them
// all), K a multiple of 4, every operand vec4-aligned, not both transposed; matmul.ts gives the
// rest to matmul_direct.wgsl. Letters, layouts and units as there: A is [M, K] (or [K, M] stored,
// with TRANS_A), B is [K, N] (or [N, K] stored, with TRANS_B), C is [M, N]; offsets, row strides
// (LD*) and batch strides given in floats and counted in vec4s.
//
// Members (G > 1, models trained together): the Z products repeat for each member g, each operand
// OUTER_* further on, as in matmul.wgsl.
//
// Mapping: workgroup → tile (g, z, tile row, tile column), columns fastest; lane l holds the tile's
// columns 4·CV·l .. 4·CV·l + 4·CV - 1 (CV vec4s a row) and loads rows l + 8q of A, q < TILE / 8
// (with TRANS_A, rows 32q + 4l .. 32q + 4l + 3, q < TILE / 32, a vec4 of each stored row k).

const M: u32 = {{M}}u;
const N: u32 = {{N}}u;
const K: u32 = {{K}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const OFF_A: u32 = {{OFF_A}}u / 4u; // given in floats, counted in vec4s, as every stride below
const OFF_B: u32 = {{OFF_B}}u / 4u;
const OFF_C: u32 = {{OFF_C}}u / 4u;
const LDA: u32 = {{LDA}}u / 4u;
const LDB: u32 = {{LDB}}u / 4u;
const LDC: u32 = {{LDC}}u / 4u;
const STRIDE_A: u32 = {{STRIDE_A}}u / 4u;
const STRIDE_B: u32 = {{STRIDE_B}}u / 4u;
const STRIDE_C: u32 = {{STRIDE_C}}u / 4u;
const Z: u32 = {{Z}}u;
const G: u32 = {{G}}u; // members
const OUTER_A: u32 = {{OUTER_A}}u / 4u;
const OUTER_B: u32 = {{OUTER_B}}u / 4u;
const OUTER_C: u32 = {{OUTER_C}}u / 4u;

const TILE: u32 = {{TILE}}u; // rows of C a workgroup
const CV: u32 = {{CV}}u; // vec4 columns of C a lane: 1 or 2
const WIDTH: u32 = 32u * CV; // columns of C a workgroup (8 lanes)
const NT: u32 = N / WIDTH; // tile columns
const MT: u32 = M / TILE; // tile rows

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;       // [Z, M, K] or [Z, K, M]
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;       // [Z, K, N] or [Z, N, K]
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>; // [Z, M, N]

// Row i's CV vec4 accumulators (this lane's 4·CV columns) are acc[CV·i] .. acc[CV·i + CV - 1].
alias Acc = array<vec4<f32>, CV * TILE>;
// Without TRANS_B: B's rows k..k+3 at this lane's columns, CV vec4s each (b[CV·e + v]).
// With TRANS_B: the lane's 4·CV columns, each a stored row of B read as a vec4 along k.
alias BK = array<vec4<f32>, 4u * CV>;

// Row i += a (A(i, k..k+3)) times the four rows of B (or dotted with its 4·CV stored rows).
fn rowK4(acc: ptr<function, Acc>, i: u32, a: vec4<f32>, b: ptr<function, BK>) {
  for (var v = 0u; v < CV; v++) {
    if (TRANS_B) {
      (*acc)[CV * i + v] += vec4<f32>(dot(a, (*b)[4u * v]), dot(a, (*b)[4u * v + 1u]),
        dot(a, (*b)[4u * v + 2u]), dot(a, (*b)[4u * v + 3u]));
    } else {
      (*acc)[CV * i + v] = fma(vec4<f32>(a.w), (*b)[3u * CV + v], fma(vec4<f32>(a.z),
        (*b)[2u * CV + v], fma(vec4<f32>(a.y), (*b)[CV + v], fma(vec4<f32>(a.x), (*b)[v],
        (*acc)[CV * i + v]))));
    }
  }
}

// With TRANS_A: rows 4r .. 4r + 3 of the tile, from lane r % 8's vec4s of A's stored rows
// k .. k + 3 (a0 .. a3: four rows of the tile each), transposed into each row's A(i, k..k+3).
fn rows4(acc: ptr<function, Acc>, r: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>,
  a3: vec4<f32>, b: ptr<function, BK>) {
  for (var c = 0u; c < 4u; c++) {
    rowK4(acc, 4u * r + c, vec4<f32>(a0[c], a1[c], a2[c], a3[c]), b);
  }
}

@compute @workgroup_size(8)
fn matmul_subgroup(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let id = wid.x + wid.y * nwg.x;
  if (id >= G * Z * MT * NT) { return; } // a whole workgroup: the subgroup stays uniform
  let ct = id % NT;
  let rt = (id / NT) % MT;
  let z = (id / (NT * MT)) % Z;
  let g = id / (NT * MT * Z);
  // A's first row of the tile (or, with TRANS_A, the tile's first vec4 in stored row k = 0); B's
  // first vec4 of this lane's columns in row k = 0 (or, with TRANS_B, its first column's row).
  let a0 = OFF_A + g * OUTER_A + z * STRIDE_A + select(rt * TILE * LDA, rt * (TILE / 4u), TRANS_A);
  let col = ct * WIDTH + lane * 4u * CV;
  let b0 = OFF_B + g * OUTER_B + z * STRIDE_B + select(col / 4u, col * LDB, TRANS_B);
  var acc: Acc;
  for (var k4 = 0u; k4 < K / 4u; k4++) {
    // Lane l holds row 8q + l of the tile at k..k+3, for q < TILE / 8 (with TRANS_A, a[4q + e] is
    // the vec4 8q + l of stored row k + e: the tile's rows 32q + 4l .. 32q + 4l + 3).
    var a: array<vec4<f32>, TILE / 8u>;
    for (var q = 0u; q < TILE / 8u; q++) {
      if (TRANS_A) {
        a[q] = A[a0 + (4u * k4 + q % 4u) * LDA + 8u * (q / 4u) + lane];
      } else {
        a[q] = A[a0 + (8u * q + lane) * LDA + k4];
      }
    }
    var b: BK;
    if (TRANS_B) {
      for (var j = 0u; j < 4u * CV; j++) { b[j] = B[b0 + j * LDB + k4]; }
    } else {
      for (var e = 0u; e < 4u; e++) {
        for (var v = 0u; v < CV; v++) { b[CV * e + v] = B[b0 + (4u * k4 + e) * LDB + v]; }
      }
    }
    if (TRANS_A) {
      for (var q = 0u; q < TILE / 32u; q++) {
        // subgroupBroadcast takes a constant lane: the eight written out.
        rows4(&acc, 8u * q + 0u, subgroupBroadcast(a[4u * q], 0u), subgroupBroadcast(a[4u * q + 1u], 0u),
          subgroupBroadcast(a[4u * q + 2u], 0u), subgroupBroadcast(a[4u * q + 3u], 0u), &b);
        rows4(&acc, 8u * q + 1u, subgroupBroadcast(a[4u * q], 1u), subgroupBroadcast(a[4u * q + 1u], 1u),
          subgroupBroadcast(a[4u * q + 2u], 1u), subgroupBroadcast(a[4u * q + 3u], 1u), &b);
        rows4(&acc, 8u * q + 2u, subgroupBroadcast(a[4u * q], 2u), subgroupBroadcast(a[4u * q + 1u], 2u),
          subgroupBroadcast(a[4u * q + 2u], 2u), subgroupBroadcast(a[4u * q + 3u], 2u), &b);
        rows4(&acc, 8u * q + 3u, subgroupBroadcast(a[4u * q], 3u), subgroupBroadcast(a[4u * q + 1u], 3u),
          subgroupBroadcast(a[4u * q + 2u], 3u), subgroupBroadcast(a[4u * q + 3u], 3u), &b);
        rows4(&acc, 8u * q + 4u, subgroupBroadcast(a[4u * q], 4u), subgroupBroadcast(a[4u * q + 1u], 4u),
          subgroupBroadcast(a[4u * q + 2u], 4u), subgroupBroadcast(a[4u * q + 3u], 4u), &b);
        rows4(&acc, 8u * q + 5u, subgroupBroadcast(a[4u * q], 5u), subgroupBroadcast(a[4u * q + 1u], 5u),
          subgroupBroadcast(a[4u * q + 2u], 5u), subgroupBroadcast(a[4u * q + 3u], 5u), &b);
        rows4(&acc, 8u * q + 6u, subgroupBroadcast(a[4u * q], 6u), subgroupBroadcast(a[4u * q + 1u], 6u),
          subgroupBroadcast(a[4u * q + 2u], 6u), subgroupBroadcast(a[4u * q + 3u], 6u), &b);
        rows4(&acc, 8u * q + 7u, subgroupBroadcast(a[4u * q], 7u), subgroupBroadcast(a[4u * q + 1u], 7u),
          subgroupBroadcast(a[4u * q + 2u], 7u), subgroupBroadcast(a[4u * q + 3u], 7u), &b);
      }
      continue;
    }
    for (var q = 0u; q < TILE / 8u; q++) {
      // subgroupBroadcast takes a constant lane: the eight written out (in both branches). An
      // array of the eight broadcasts indexed in a loop, as flash_attention_subgroup.wgsl's lanes8,
      // made the tinygpt step 1.33x slower on lavapipe (2026-12-07).
      rowK4(&acc, 8u * q + 0u, subgroupBroadcast(a[q], 0u), &b);
      rowK4(&acc, 8u * q + 1u, subgroupBroadcast(a[q], 1u), &b);
      rowK4(&acc, 8u * q + 2u, subgroupBroadcast(a[q], 2u), &b);
      rowK4(&acc, 8u * q + 3u, subgroupBroadcast(a[q], 3u), &b);
      rowK4(&acc, 8u * q + 4u, subgroupBroadcast(a[q], 4u), &b);
      rowK4(&acc, 8u * q + 5u, subgroupBroadcast(a[q], 5u), &b);
      rowK4(&acc, 8u * q + 6u, subgroupBroadcast(a[q], 6u), &b);
      rowK4(&acc, 8u * q + 7u, subgroupBroadcast(a[q], 7u), &b);
    }
  }
  let c0 = OFF_C + g * OUTER_C + z * STRIDE_C + rt * TILE * LDC + col / 4u;
  for (var i = 0u; i < TILE; i++) {
    for (var v = 0u; v < CV; v++) { C[c0 + i * LDC + v] = acc[CV * i + v]; }
  }
}
