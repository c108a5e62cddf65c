// LayerNorm over the last dimension (TransformerLens' LayerNorm), forward and backward.
// R = rows (batch·pos), D = d_model; S = ceil(R / CHUNK) row chunks of the backward.
//
//   layernorm_forward:  mean[r]  = Σ_d x[r, d] / D
//                       scale[r] = sqrt(Σ_d (x[r, d] − mean[r])² / D + EPS)   (TL's hook_scale)
//                       y[r, d]  = (x[r, d] − mean[r]) / scale[r] · w[d] + b[d]
//   layernorm_backward: with x̂ = (x − mean) / scale and g = w ⊙ dy in each row,
//                       dx[r, d] = (g − mean_d(g) − x̂ · mean_d(g ⊙ x̂)) / scale[r]
//                       dw_part[s, d] = Σ_{r in chunk s} dy ⊙ x̂,  db_part[s, d] = Σ_{r in chunk s} dy
//                       (the launcher sums the S partials with sum_rows, or binds dw and db
//                       themselves when S = 1).
//
// One workgroup of WG invocations per row (forward) or per chunk of CHUNK rows taken in order
// (backward); invocation l handles columns l, l + WG, ... Row sums go through a fixed-order tree in
// workgroup memory, so every sum has the same order on every run. The variance is summed around
// the mean (two passes over the row), so a large common offset costs no precision.

const R: u32 = {{R}}u;
const D: u32 = {{D}}u;
const EPS: f32 = {{EPS}};
const WG: u32 = {{WG}}u; // a power of two
const CHUNK: u32 = {{CHUNK}}u;
const S: u32 = (R + CHUNK - 1u) / CHUNK;
const PER: u32 = (D + WG - 1u) / WG; // columns per invocation

var<workgroup> partial: array<vec2<f32>, WG>;

// Σ over the workgroup of each invocation's v, in a fixed tree order; every invocation gets it.
// Must be called from uniform control flow.
fn workgroup_sum(l: u32, v: vec2<f32>) -> vec2<f32> {
  partial[l] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (l < stride) { partial[l] = partial[l] + partial[l + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read it before the next call overwrites it
  return total;
}

@group(0) @binding(0) var<storage, read> x: array<f32>;             // [R, D]
@group(0) @binding(1) var<storage, read> w: array<f32>;             // [D]
@group(0) @binding(2) var<storage, read> b: array<f32>;             // [D]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;       // [R, D]
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;    // [R]
@group(0) @binding(5) var<storage, read_write> scale: array<f32>;   // [R]

@compute @workgroup_size(WG)
fn layernorm_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) l: u32,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= R) { return; }
  let row = r * D;
  var s = 0.0;
  for (var d = l; d < D; d += WG) { s += x[row + d]; }
  let mu = workgroup_sum(l, vec2<f32>(s, 0.0)).x / f32(D);
  var q = 0.0;
  for (var d = l; d < D; d += WG) {
    let dev = x[row + d] - mu;
    q = fma(dev, dev, q);
  }
  let sigma = sqrt(workgroup_sum(l, vec2<f32>(q, 0.0)).x / f32(D) + EPS);
  for (var d = l; d < D; d += WG) {
    y[row + d] = (x[row + d] - mu) / sigma * w[d] + b[d];
  }
  if (l == 0u) {
    mean[r] = mu;
    scale[r] = sigma;
  }
}

@group(0) @binding(2) var<storage, read> dy: array<f32>;              // [R, D]
@group(0) @binding(3) var<storage, read> saved_mean: array<f32>;      // [R]
@group(0) @binding(4) var<storage, read> saved_scale: array<f32>;     // [R]
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;        // [R, D]
@group(0) @binding(6) var<storage, read_write> dw_part: array<f32>;   // [S, D]
@group(0) @binding(7) var<storage, read_write> db_part: array<f32>;   // [S, D]

@compute @workgroup_size(WG)
fn layernorm_backward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) l: u32,
) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= S) { return; }
  var acc_w: array<f32, PER>; // this invocation's columns of dw_part[s] and db_part[s]
  var acc_b: array<f32, PER>;
  for (var r = s * CHUNK; r < min(R, (s + 1u) * CHUNK); r++) {
    let row = r * D;
    let mu = saved_mean[r];
    let inv = 1.0 / saved_scale[r];
    var sums = vec2<f32>(0.0, 0.0); // (Σ g, Σ g·x̂) over this invocation's columns
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) {
        let xhat = (x[row + d] - mu) * inv;
        let g = w[d] * dy[row + d];
        sums += vec2<f32>(g, g * xhat);
      }
    }
    let means = workgroup_sum(l, sums) / f32(D);
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) {
        let xhat = (x[row + d] - mu) * inv;
        let g = w[d] * dy[row + d];
        dx[row + d] = (g - means.x - xhat * means.y) * inv;
        acc_w[k] = fma(dy[row + d], xhat, acc_w[k]);
        acc_b[k] += dy[row + d];
      }
    }
  }
  for (var k = 0u; k < PER; k++) {
    let d = l + k * WG;
    if (d < D) {
      dw_part[s * D + d] = acc_w[k];
      db_part[s * D + d] = acc_b[k];
    }
  }
}
