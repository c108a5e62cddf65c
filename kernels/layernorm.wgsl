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
// One workgroup of WG invocations per chunk of CHUNK rows taken in order (the forward's CHUNK is 1
// on hardware GPUs); invocation l handles columns l, l + WG, ... (PER of them), keeping its share
// of w (and b) and of the row at hand in private arrays, so each float of x, dy, w, b is loaded
// once (on a software adapter every load from a storage buffer costs far more than arithmetic).
// Row sums go through a fixed-order tree in workgroup memory, so every sum has the same order on
// every run. The variance is summed around the mean (two passes over the row), so a large common
// offset costs no precision. With ACCUMULATE the backward adds dx into what dx holds (the
// residual stream's gradient) instead of overwriting it.

const R: u32 = {{R}}u;
const D: u32 = {{D}}u;
const EPS: f32 = {{EPS}};
const WG: u32 = {{WG}}u; // a power of two
const CHUNK: u32 = {{CHUNK}}u;
const ACCUMULATE: bool = {{ACCUMULATE}};
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
  let c = wid.x + wid.y * nwg.x;
  if (c >= S) { return; }
  var wk: array<f32, PER>; // this invocation's columns of w and b
  var bk: array<f32, PER>;
  for (var k = 0u; k < PER; k++) {
    let d = l + k * WG;
    if (d < D) {
      wk[k] = w[d];
      bk[k] = b[d];
    }
  }
  for (var r = c * CHUNK; r < min(R, (c + 1u) * CHUNK); r++) {
    let row = r * D;
    var xk: array<f32, PER>; // this invocation's columns of row r
    var s = 0.0;
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) {
        xk[k] = x[row + d];
        s += xk[k];
      }
    }
    let mu = workgroup_sum(l, vec2<f32>(s, 0.0)).x / f32(D);
    var q = 0.0;
    for (var k = 0u; k < PER; k++) {
      if (l + k * WG < D) {
        let dev = xk[k] - mu;
        q = fma(dev, dev, q);
      }
    }
    let sigma = sqrt(workgroup_sum(l, vec2<f32>(q, 0.0)).x / f32(D) + EPS);
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) { y[row + d] = (xk[k] - mu) / sigma * wk[k] + bk[k]; }
    }
    if (l == 0u) {
      mean[r] = mu;
      scale[r] = sigma;
    }
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
  var wk: array<f32, PER>; // and of w
  for (var k = 0u; k < PER; k++) {
    let d = l + k * WG;
    if (d < D) { wk[k] = w[d]; }
  }
  for (var r = s * CHUNK; r < min(R, (s + 1u) * CHUNK); r++) {
    let row = r * D;
    let mu = saved_mean[r];
    let inv = 1.0 / saved_scale[r];
    var xhat: array<f32, PER>; // this invocation's columns of row r
    var dyk: array<f32, PER>;
    var sums = vec2<f32>(0.0, 0.0); // (Σ g, Σ g·x̂) over this invocation's columns, g = w·dy
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) {
        xhat[k] = (x[row + d] - mu) * inv;
        dyk[k] = dy[row + d];
        let g = wk[k] * dyk[k];
        sums += vec2<f32>(g, g * xhat[k]);
      }
    }
    let means = workgroup_sum(l, sums) / f32(D);
    for (var k = 0u; k < PER; k++) {
      let d = l + k * WG;
      if (d < D) {
        var grad = (wk[k] * dyk[k] - means.x - xhat[k] * means.y) * inv;
        if (ACCUMULATE) { grad += dx[row + d]; }
        dx[row + d] = grad;
        acc_w[k] = fma(dyk[k], xhat[k], acc_w[k]);
        acc_b[k] += dyk[k];
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
