// Column sums in a fixed order: out[c] = Σ_r x[r, c] over R rows of C columns. Bias and positional
// embedding gradients, split-K partial products and per-example losses all end in one.
//
// Deterministic by construction (WGSL has no float atomics, and their order would vary anyway):
// invocation (s, c) sums rows s·CHUNK .. min((s+1)·CHUNK, R) - 1 of column c in order, into
// out[s, c]. With S = ceil(R / CHUNK) > 1 a second launch over the [S, C] partials finishes the job.
//
// Members (G > 1, models trained together): G such sums, member g's rows X_STRIDE elements after
// member g - 1's and its sums OUT_STRIDE after; each member's in the order of one model's.

const R: u32 = {{R}}u;
const C: u32 = {{C}}u;
const CHUNK: u32 = {{CHUNK}}u;
const S: u32 = (R + CHUNK - 1u) / CHUNK;
const G: u32 = {{G}}u; // members
const X_STRIDE: u32 = {{X_STRIDE}}u;
const OUT_STRIDE: u32 = {{OUT_STRIDE}}u;
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;         // [G, R, C]
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // [G, S, C], strided

@compute @workgroup_size(WG)
fn sum_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= G * S * C) { return; }
  let g = i / (S * C);
  let s = (i / C) % S;
  let c = i % C;
  let end = min(R, (s + 1u) * CHUNK);
  var total = 0.0;
  for (var r = s * CHUNK; r < end; r++) {
    total += x[g * X_STRIDE + r * C + c];
  }
  out[g * OUT_STRIDE + s * C + c] = total;
}
