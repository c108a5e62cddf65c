// AdamW over all of a model's parameters at once, with global gradient-norm clipping and a warmup /
// cosine learning-rate schedule, the step counter kept on the GPU so that many training steps can
// be encoded in one submit. torch.optim.AdamW (single-tensor, non-amsgrad) after
// torch.nn.utils.clip_grad_norm_, with LambdaLR stepped after each update; the float64 reference
// and the formulas are in engine/reference/adamw.ts.
//
// P = parameter elements: params, grads, m, v are one flat [P] vector each (each weight a slice).
// S = partial sums of squares (S workgroups of grad_sumsq; S = 1 when the norm is not computed).
// state [8], as u32 words (f32 values stored as their bits):
//   [0] t, the number of updates done (u32; zeros before the first)
//   [1] lr_t, the learning rate of update t     [2] norm, the global gradient norm (0 without maxNorm)
//   [3] clip, what the gradients were scaled by [4] 1 - β1^t   [5] 1 - β2^t   [6], [7] unused (0)
//
// Members (G > 1, models trained together): params, grads, m, v are G members' [PS] each and state
// is [G, 8], member g's words at 8g, its own learning rate and weight decay in its words [6], [7]
// (f32 bits, written by the launcher's caller) in place of LR and WEIGHT_DECAY; adamw_step_plain
// runs a workgroup per member. Members share the schedule's shape and do not clip.
//
// One optimizer step is three launches:
//   grad_sumsq   (only with maxNorm) workgroup w sums grads[i]² over i = w·WG + l + k·S·WG in a
//                fixed order per invocation l, then a fixed tree over the workgroup: partials[w].
//   adamw_step   one workgroup: sums the S partials in the same fixed way, then invocation 0 does
//                t += 1, the schedule, norm, clip, the bias corrections, and writes state.
//                adamw_step_plain is the same without the norm (no maxNorm: norm 0, clip 1).
//   adamw_update per element: g = grad·clip; p *= 1 - lr·wd; m = β1·m + (1-β1)·g;
//                v = β2·v + (1-β2)·g²; p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
//                (lr·wd·p and the Adam step are summed first, so p is rounded once per update).
//                Weight decay skips the launcher's noDecay element ranges (NO_DECAY below).
//
// f32 care: 1 - β^t is -expm1(t·ln β) by its series where that is small (1 - pow(β, t) would
// lose all but 3 digits at t = 1 for β = 0.999), and the cosine is a series too (WGSL's cos only
// promises an absolute error of 2^-11), so lr_t and the bias corrections are good to a few ulp.

const P: u32 = {{P}}u;
const G: u32 = {{G}}u;   // members
const PS: u32 = {{PS}}u; // a member's elements (P / G)
const S: u32 = {{S}}u;
const WG: u32 = 256u;

const LR: f32 = {{LR}};
const MIN_LR: f32 = {{MIN_LR}};
const WARMUP: u32 = {{WARMUP}}u;
const COSINE: bool = {{COSINE}};
const TOTAL: u32 = {{TOTAL}}u;           // cosine: lr reaches MIN_LR at update TOTAL + 1 (> WARMUP)
const BETA1: f32 = {{BETA1}};
const BETA2: f32 = {{BETA2}};
const ONE_MINUS_BETA1: f32 = {{ONE_MINUS_BETA1}}; // 1 - β1 and 1 - β2 rounded once from float64
const ONE_MINUS_BETA2: f32 = {{ONE_MINUS_BETA2}};
const LN_BETA1: f32 = {{LN_BETA1}};     // ln β (-100 for β = 0: then 1 - β^t = 1)
const LN_BETA2: f32 = {{LN_BETA2}};
const EPS: f32 = {{EPS}};
const WEIGHT_DECAY: f32 = {{WEIGHT_DECAY}};
const MAX_NORM: f32 = {{MAX_NORM}};
const CLIP: bool = {{CLIP}};            // false: the norm is computed (maxNorm = Infinity) but never clips
const PI: f32 = 3.14159265358979;

// Whether element i is exempt from weight decay: `false`, or `(i >= 12u && i < 17u) || ...`.
fn no_decay(i: u32) -> bool {
  return {{NO_DECAY}};
}

// ---- grad_sumsq -------------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read> norm_grads: array<f32>;      // [P]
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;  // [S]

var<workgroup> tree: array<f32, WG>;

// The sum of tree[0..WG) by a fixed halving tree, seen by every invocation.
fn tree_sum(l: u32) -> f32 {
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (l < half) { tree[l] += tree[l + half]; }
  }
  workgroupBarrier();
  return tree[0];
}

@compute @workgroup_size(WG)
fn grad_sumsq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  var acc = 0.0;
  for (var i = wid.x * WG + l; i < P; i += S * WG) {
    let g = norm_grads[i];
    acc += g * g;
  }
  tree[l] = acc;
  let total = tree_sum(l);
  if (l == 0u) { partials[wid.x] = total; }
}

// ---- adamw_step, adamw_step_plain -------------------------------------------------------------

@group(0) @binding(0) var<storage, read_write> state: array<u32>;  // [8]
@group(0) @binding(1) var<storage, read> partial_sums: array<f32>; // [S]

// -expm1(x) = 1 - e^x for x <= 0, to a few ulp relative.
fn one_minus_exp(x: f32) -> f32 {
  if (x < -0.5) { return 1.0 - exp(x); }
  // expm1(x) = x (1 + x/2 (1 + x/3 (1 + ...))): |x|^11 / 11! < 1e-9 for |x| <= 0.5.
  var s = 1.0;
  for (var k = 10u; k >= 2u; k--) { s = 1.0 + s * x / f32(k); }
  return -x * s;
}

// 0.5 (1 + cos(π p)) = cos²(π p / 2) for p in [0, 1], by series on [0, π/4].
fn half_cos_plus_half(p: f32) -> f32 {
  var c: f32;
  if (p <= 0.5) {
    let y = 0.5 * PI * p; // cos y = 1 - y²/(1·2) (1 - y²/(3·4) (1 - ...))
    var s = 1.0;
    for (var k = 7u; k >= 1u; k--) { s = 1.0 - s * y * y / f32((2u * k - 1u) * (2u * k)); }
    c = s;
  } else {
    let z = 0.5 * PI * (1.0 - p); // cos y = sin z = z (1 - z²/(2·3) (1 - z²/(4·5) (1 - ...)))
    var s = 1.0;
    for (var k = 7u; k >= 1u; k--) { s = 1.0 - s * z * z / f32((2u * k) * (2u * k + 1u)); }
    c = z * s;
  }
  return c * c;
}

// The learning rate of update t (1-based): warmup factor min((t-1)/W, 1), then constant or cosine.
fn lr_at(t: u32, g: u32) -> f32 {
  let LR = base_lr(g);
  let s = t - 1u;
  if (s < WARMUP) { return LR * (f32(s) / f32(WARMUP)); }
  if (!COSINE) { return LR; }
  let progress = min(1.0, f32(s - WARMUP) / f32(TOTAL - WARMUP));
  return MIN_LR + (LR - MIN_LR) * half_cos_plus_half(progress);
}

// Member g's learning rate and weight decay: LR and WEIGHT_DECAY, or (G > 1) its state words.
fn base_lr(g: u32) -> f32 {
  if (G == 1u) { return LR; }
  return bitcast<f32>(state[8u * g + 6u]);
}

// Advances member g's step and writes everything adamw_update reads; `sumsq` is Σ grads² (0: no
// norm).
fn advance(g: u32, sumsq: f32) {
  let o = 8u * g;
  let t = state[o] + 1u;
  let norm = sqrt(sumsq);
  var clip = 1.0;
  if (CLIP) { clip = min(1.0, MAX_NORM / (norm + 1e-6)); }
  state[o] = t;
  state[o + 1u] = bitcast<u32>(lr_at(t, g));
  state[o + 2u] = bitcast<u32>(norm);
  state[o + 3u] = bitcast<u32>(clip);
  state[o + 4u] = bitcast<u32>(one_minus_exp(f32(t) * LN_BETA1));
  state[o + 5u] = bitcast<u32>(one_minus_exp(f32(t) * LN_BETA2));
}

@compute @workgroup_size(WG)
fn adamw_step(@builtin(local_invocation_index) l: u32) {
  var acc = 0.0;
  for (var i = l; i < S; i += WG) { acc += partial_sums[i]; }
  tree[l] = acc;
  let total = tree_sum(l);
  if (l == 0u) { advance(0u, total); }
}

@compute @workgroup_size(1)
fn adamw_step_plain(@builtin(workgroup_id) wid: vec3<u32>) {
  advance(wid.x, 0.0);
}

// ---- adamw_update -----------------------------------------------------------------------------

@group(0) @binding(0) var<storage, read_write> params: array<f32>; // [P]
@group(0) @binding(1) var<storage, read> grads: array<f32>;        // [P]
@group(0) @binding(2) var<storage, read_write> m: array<f32>;      // [P]
@group(0) @binding(3) var<storage, read_write> v: array<f32>;      // [P]
@group(0) @binding(4) var<storage, read> step_state: array<u32>;   // [8]: state after adamw_step

@compute @workgroup_size(WG)
fn adamw_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= P) { return; }
  let o = 8u * (i / PS); // the member's state
  let lr = bitcast<f32>(step_state[o + 1u]);
  let clip = bitcast<f32>(step_state[o + 3u]);
  let step_size = lr / bitcast<f32>(step_state[o + 4u]);
  let bias2_sqrt = sqrt(bitcast<f32>(step_state[o + 5u]));
  var wd = WEIGHT_DECAY;
  if (G > 1u) { wd = bitcast<f32>(step_state[o + 7u]); }

  let g = grads[i] * clip;
  let p = params[i];
  let decay = select(lr * wd, 0.0, no_decay(i % PS));
  let mi = BETA1 * m[i] + ONE_MINUS_BETA1 * g;
  let vi = BETA2 * v[i] + ONE_MINUS_BETA2 * g * g;
  // p·(1 - lr·wd) - step, with the two small terms summed first: p is rounded once per update.
  params[i] = p - (decay * p + step_size * mi / (sqrt(vi) / bias2_sqrt + EPS));
  m[i] = mi;
  v[i] = vi;
}
