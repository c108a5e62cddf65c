// Grokfast-EMA (Lee et al. 2024) over all of a model's gradients at once, before AdamW: the
// paper's gradfilter_ema. The float64 reference and the formulas are engine/reference/grokfast.ts.
//
// P = parameter elements: grads and ema are one flat [P] vector each (each weight a slice).
// state [8]: AdamW's state words (kernels/adamw.wgsl); word 0 is t, the updates done so far, read
// here before adamw_step advances it, so t = 0 is the run's first update.
//
// grokfast_filter, per element:
//   ema  = g                          on the first update (t = 0 here), as the paper's code starts it
//   ema  = α · ema + (1 - α) · g      after
//   g    = g + λ · ema                in place: AdamW (and its norm, when clipping) reads it

const P: u32 = {{P}}u;
const WG: u32 = 256u;
const ALPHA: f32 = {{ALPHA}};
const ONE_MINUS_ALPHA: f32 = {{ONE_MINUS_ALPHA}}; // 1 - α rounded once from float64
const LAMBDA: f32 = {{LAMBDA}};

@group(0) @binding(0) var<storage, read_write> grads: array<f32>; // [P]
@group(0) @binding(1) var<storage, read_write> ema: array<f32>;   // [P]
@group(0) @binding(2) var<storage, read> state: array<u32>;       // [8]: AdamW's, before its step

@compute @workgroup_size(WG)
fn grokfast_filter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= P) { return; }
  let g = grads[i];
  var e = g;
  if (state[0] > 0u) { e = ALPHA * ema[i] + ONE_MINUS_ALPHA * g; }
  ema[i] = e;
  grads[i] = g + LAMBDA * e;
}
