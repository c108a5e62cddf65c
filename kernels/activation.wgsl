// The MLP activation and its backward, elementwise: TransformerLens' act_fn, which maps
// mlp.hook_pre to mlp.hook_post. N = elements of each operand (any shape flattened: [B, T, M] in
// the MLP, M = d_mlp).
//
//   activation_forward:  post[i] = act(pre[i])
//   activation_backward: dpre[i] = act'(pre[i]) · dpost[i]
//
// ACT names the function, one of
//   relu      max(x, 0); the derivative at exactly 0 is 0 (PyTorch's);
//   gelu      the exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's F.gelu);
//   gelu_new  GPT-2's 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
// so one pipeline serves one (N, ACT) and the compiler drops the other two functions.
//
// No builtin tanh: some drivers compute it as (e^{2u} − 1)/(e^{2u} + 1), NaN past |u| ≈ 44, and
// others use a fast approximation good to 2^-11. tanh and sech² come from e = exp(−2|u|) ∈ [0, 1]
// instead, which cannot overflow. WGSL has no erf: normal_cdf below is fitted for f32.

const N: u32 = {{N}}u;
const WG: u32 = 256u;

const FRAC_1_SQRT_2: f32 = 0.70710678118654752;
const FRAC_1_SQRT_2PI: f32 = 0.39894228040143268;
const SQRT_2_OVER_PI: f32 = 0.79788456080286536;
const GELU_NEW_CUBIC: f32 = 0.044715;

// Φ(x), the standard normal CDF, in f32: 0.5·(1 + erf(a)) with a = x/√2, and 0.5·erfc(|a|) in the
// tails so the lower tail keeps its relative accuracy (Φ(−5) = 2.9e-7 is not 1 − 0.99999971).
//   |a| < 1:  erf(a) = a + a·P(a²), P of degree 6;
//   |a| ≥ 1:  erfc(|a|) = exp(−a² − Q(t)), t = (min(|a|, 9.5) − 5.25) / 4.25, Q of degree 12.
// P and Q are least-squares fits on Chebyshev nodes of [0, 1] and [1, 9.5] to 40-digit erf(a)/a − 1
// and −log(erfc(a)) − a², rounded to f32. Emulating f32 fma and a correctly rounded exp, Φ is
// within 6.5e-8 absolute everywhere (about 1 ulp), and the tail 0.5·erfc(|a|) within 2e-5 relative
// down to x = −13.4, where it leaves f32's normal range (the clamp keeps Q from blowing up past
// it). A driver's exp adds its own relative error times at most erfc(1)/2 = 0.08.
fn normal_cdf(x: f32) -> f32 {
  let a = x * FRAC_1_SQRT_2;
  let t = abs(a);
  if (t < 1.0) {
    let s = a * a;
    var p = 7.882497448e-05;
    p = fma(p, s, -8.018855006e-04);
    p = fma(p, s, 5.189312156e-03);
    p = fma(p, s, -2.685432881e-02);
    p = fma(p, s, 1.128359735e-01);
    p = fma(p, s, -3.761262596e-01);
    p = fma(p, s, 1.283791661e-01);
    return 0.5 + 0.5 * fma(p, a, a);
  }
  let u = (min(t, 9.5) - 5.25) * 0.23529412;
  var q = -4.199608520e-04;
  q = fma(q, u, 1.536058146e-03);
  q = fma(q, u, -2.502674470e-03);
  q = fma(q, u, 3.643332282e-03);
  q = fma(q, u, -7.049813401e-03);
  q = fma(q, u, 1.362388022e-02);
  q = fma(q, u, -2.431925386e-02);
  q = fma(q, u, 4.309391975e-02);
  q = fma(q, u, -7.775984704e-02);
  q = fma(q, u, 1.453500390e-01);
  q = fma(q, u, -2.965609729e-01);
  q = fma(q, u, 7.825111747e-01);
  q = fma(q, u, 2.247976303);
  let tail = 0.5 * exp(-t * t - q); // 0.5·erfc(|a|); t·t = inf gives 0
  return select(1.0 - tail, tail, a < 0.0);
}

// (tanh u, sech² u) from e = exp(−2|u|): tanh = sign(u)·(1 − e)/(1 + e), sech² = 4e/(1 + e)².
fn tanh_sech2(u: f32) -> vec2<f32> {
  let e = exp(-2.0 * abs(u));
  let d = 1.0 + e;
  return vec2<f32>(sign(u) * (1.0 - e) / d, 4.0 * e / (d * d));
}

fn relu(x: f32) -> f32 {
  return select(x, 0.0, x <= 0.0); // NaN stays NaN
}

fn relu_grad(x: f32) -> f32 {
  return select(0.0, 1.0, x > 0.0);
}

fn gelu(x: f32) -> f32 {
  return x * normal_cdf(x);
}

fn gelu_grad(x: f32) -> f32 {
  // Φ(x) + x·φ(x). Past |x| = 16, exp(−x²/2) < e^-128 has underflowed to 0 in f32, so clamping x
  // there changes nothing but keeps x·φ from becoming inf·0.
  let xc = clamp(x, -16.0, 16.0);
  return normal_cdf(x) + xc * FRAC_1_SQRT_2PI * exp(-0.5 * xc * xc);
}

// u = √(2/π)·(x + 0.044715·x³). Past |x| = 12, |u| > 71 and exp(−2|u|) has underflowed to 0 in
// f32, so tanh is ±1 and sech² 0 exactly: clamping x there changes nothing but keeps x³ finite.
fn gelu_new(x: f32) -> f32 {
  let xc = clamp(x, -12.0, 12.0);
  let th = tanh_sech2(SQRT_2_OVER_PI * xc * fma(GELU_NEW_CUBIC * xc, xc, 1.0));
  return 0.5 * x * (1.0 + th.x);
}

fn gelu_new_grad(x: f32) -> f32 {
  // 0.5·(1 + tanh u) + 0.5·x·sech²u·du/dx, du/dx = √(2/π)·(1 + 3·0.044715·x²)
  let xc = clamp(x, -12.0, 12.0);
  let th = tanh_sech2(SQRT_2_OVER_PI * xc * fma(GELU_NEW_CUBIC * xc, xc, 1.0));
  let du = SQRT_2_OVER_PI * fma(3.0 * GELU_NEW_CUBIC * xc, xc, 1.0);
  return 0.5 * (1.0 + th.x) + 0.5 * xc * th.y * du;
}

fn act(x: f32) -> f32 {
  return {{ACT}}(x);
}

fn act_grad(x: f32) -> f32 {
  return {{ACT}}_grad(x);
}

@group(0) @binding(0) var<storage, read> pre: array<f32>;        // [N]
@group(0) @binding(1) var<storage, read_write> post: array<f32>; // [N]

@compute @workgroup_size(WG)
fn activation_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N) { return; }
  post[i] = act(pre[i]);
}

@group(0) @binding(1) var<storage, read> dpost: array<f32>;      // [N]
@group(0) @binding(2) var<storage, read_write> dpre: array<f32>; // [N]

@compute @workgroup_size(WG)
fn activation_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N) { return; }
  dpre[i] = act_grad(pre[i]) * dpost[i];
}
