// matmul.wgsl's product for a few rows (M <= 4: a cached decoding step's projections and
// unembedding), without tiles: C[z] = op(A[z]) · op(B[z]) with the same operands, offsets,
// leading dimensions and batch strides as matmul.wgsl (see there). Each invocation computes four
// neighbouring columns of one row of C over the whole of K, reading A's element once per k and
// B's row k four columns at a time: no workgroup memory and no barriers, so a software adapter
// runs it as plain vector loops over B, the one large operand (GPT-2's W_U is 154 MB, read once).
//
// Members (G > 1, models trained together): the Z products repeat for each member g, each operand
// OUTER_* elements further on, so members get the kernel one model of their shape gets.

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
const ALIGN_B: bool = {{ALIGN_B}};
const ALIGN_C: bool = {{ALIGN_C}};
const Z: u32 = {{Z}}u;
const G: u32 = {{G}}u; // members
const OUTER_A: u32 = {{OUTER_A}}u;
const OUTER_B: u32 = {{OUTER_B}}u;
const OUTER_C: u32 = {{OUTER_C}}u;
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;       // [Z, M, K] or [Z, K, M]
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;       // [Z, K, N] or [Z, N, K]
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>; // [G, Z, M, N]

fn scalarA(i: u32) -> f32 { return A[i >> 2u][i & 3u]; }
fn scalarB(i: u32) -> f32 { return B[i >> 2u][i & 3u]; }

// B(k, n .. n + 3) of matrix `base`, zero past column N.
fn rowB(base: u32, k: u32, n: u32) -> vec4<f32> {
  if (!TRANS_B && ALIGN_B && n + 4u <= N) { return B[(base + k * LDB + n) >> 2u]; }
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    if (n + e < N) {
      v[e] = select(scalarB(base + k * LDB + n + e), scalarB(base + (n + e) * LDB + k), TRANS_B);
    }
  }
  return v;
}

@compute @workgroup_size(WG)
fn matmul_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x * 4u;
  let m = gid.y;
  let z = gid.z % Z;
  let g = gid.z / Z; // member
  if (n >= N || g >= G) { return; }
  let baseA = OFF_A + g * OUTER_A + z * STRIDE_A;
  let baseB = OFF_B + g * OUTER_B + z * STRIDE_B;
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < K; k++) {
    let a = select(scalarA(baseA + m * LDA + k), scalarA(baseA + k * LDA + m), TRANS_A);
    acc = fma(vec4<f32>(a), rowB(baseB, k, n), acc);
  }
  let at = OFF_C + g * OUTER_C + z * STRIDE_C + m * LDC + n;
  if (ALIGN_C && n + 4u <= N) {
    C[at >> 2u] = acc;
  } else {
    for (var e = 0u; e < 4u; e++) {
      if (n + e < N) { C[(at + e) >> 2u][(at + e) & 3u] = acc[e]; }
    }
  }
}
