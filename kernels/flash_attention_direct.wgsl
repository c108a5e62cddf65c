// Causal multi-head attention without [B, H, T, T], as flash_attention.wgsl, for software adapters:
// no workgroup memory and no barrier. Each invocation owns one row (b, h, i) and reads the other
// side's rows straight from the storage buffers as vec4s, one at a time, in order; the forward
// keeps FlashAttention's running max m and sum l. The launcher takes it on a software adapter
// (llvmpipe runs a workgroup as 8-wide SIMD on a CPU thread, where a barrier is costly and
// workgroup memory only one more copy) when d_head is a multiple of 4; elsewhere
// flash_attention.wgsl, whose flash_attention_backward_delta this file's backward shares.
// Shape letters: B batch, T positions (query i, key j), H heads, E d_head (E4 = E / 4 vec4s).
// SCALE multiplies q·k.
//
//   flash_attention_forward         invocation (b, h, i); keys j ≤ i in order:
//                                   m' = max(m, s_j), l = l·exp(m - m') + exp(s_j - m'),
//                                   acc = acc·exp(m - m') + exp(s_j - m') v_j
//                                   z[b,i,h,:] = acc / l, lse[b,h,i] = m + log(l)
//   flash_attention_backward_query  invocation (b, h, i); keys j ≤ i in order:
//                                   p = exp(s - lse_i), ds = p·(dz_i·v_j - delta_i), dq_i = SCALE Σ_j ds·k_j
//   flash_attention_backward_key    invocation (b, h, j); queries i ≥ j in order:
//                                   dv_j = Σ_i p·dz_i, dk_j = SCALE Σ_i ds·q_i
//
// Deterministic: each output row is one invocation's loop in a fixed order. The score is summed
// over E the same way in all three (dot of vec4 groups, in order), so the backward's pattern is
// exp(s - lse) of the forward's very scores.

const B: u32 = {{B}}u;
const T: u32 = {{T}}u;
const H: u32 = {{H}}u;
const E: u32 = {{E}}u;
const SCALE: f32 = {{SCALE}};
const E4: u32 = E / 4u;
const WG: u32 = 64u;
// Below any f32 score: the running max before the first key, so exp(m - m') is exactly 0.
const LOWEST: f32 = -3.4028234e38;

alias Row = array<vec4<f32>, E4>;

// flash_attention_forward binds (q, k, v, z, lse).
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;         // [B, T, H, E]
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;         // [B, T, H, E]
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;         // [B, T, H, E]
@group(0) @binding(3) var<storage, read_write> z: array<vec4<f32>>;   // [B, T, H, E]
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;       // [B, H, T]

// flash_attention_backward_query binds (q, k, v, dz, saved_lse, delta, dq): q, k, v as above.
@group(0) @binding(3) var<storage, read> dz_q: array<vec4<f32>>;      // [B, T, H, E]
@group(0) @binding(4) var<storage, read> saved_lse: array<f32>;       // [B, H, T]
@group(0) @binding(5) var<storage, read> delta: array<f32>;           // [B, H, T]
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;  // [B, T, H, E]

// flash_attention_backward_key binds (q, k, v, dz, saved_lse, delta, dk, dv).
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;  // [B, T, H, E]
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;  // [B, T, H, E]

/** Offset in vec4s of [b, t, h, 0] in a [B, T, H, E] tensor. */
fn row(b: u32, t: u32, h: u32) -> u32 {
  return ((b * T + t) * H + h) * E4;
}

/** The row (b, h, t) of invocation `r` (t fastest), whose [B, H, T] index is `r` itself. */
fn unpack(r: u32) -> vec3<u32> {
  return vec3<u32>(r / (T * H), (r / T) % H, r % T);
}

@compute @workgroup_size(WG)
fn flash_attention_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= B * H * T) { return; }
  let at = unpack(r);
  let b = at.x;
  let h = at.y;
  let i = at.z;
  let qi = row(b, i, h);
  var qr: Row;
  var acc: Row;
  for (var e = 0u; e < E4; e++) {
    qr[e] = q[qi + e];
    acc[e] = vec4<f32>(0.0);
  }
  var m = LOWEST;
  var l = 0.0;
  for (var j = 0u; j <= i; j++) {
    let kj = row(b, j, h);
    var dot_qk = 0.0;
    for (var e = 0u; e < E4; e++) { dot_qk += dot(qr[e], k[kj + e]); }
    let s = dot_qk * SCALE;
    if (s > m) {
      let rescale = exp(m - s);
      l *= rescale;
      for (var e = 0u; e < E4; e++) { acc[e] *= rescale; }
      m = s;
    }
    let p = exp(s - m);
    l += p;
    for (var e = 0u; e < E4; e++) { acc[e] = fma(vec4<f32>(p), v[kj + e], acc[e]); }
  }
  for (var e = 0u; e < E4; e++) { z[qi + e] = acc[e] / l; }
  lse[r] = m + log(l);
}

@compute @workgroup_size(WG)
fn flash_attention_backward_query(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= B * H * T) { return; }
  let at = unpack(r);
  let b = at.x;
  let h = at.y;
  let i = at.z;
  let qi = row(b, i, h);
  var qr: Row;
  var dzr: Row;
  var acc: Row;
  for (var e = 0u; e < E4; e++) {
    qr[e] = q[qi + e];
    dzr[e] = dz_q[qi + e];
    acc[e] = vec4<f32>(0.0);
  }
  let lse_i = saved_lse[r];
  let delta_i = delta[r];
  for (var j = 0u; j <= i; j++) {
    let kj = row(b, j, h);
    var kr: Row; // k_j, read once for the score and the sum
    var dot_qk = 0.0;
    var dp = 0.0;
    for (var e = 0u; e < E4; e++) {
      kr[e] = k[kj + e];
      dot_qk += dot(qr[e], kr[e]);
      dp += dot(dzr[e], v[kj + e]);
    }
    let ds = exp(dot_qk * SCALE - lse_i) * (dp - delta_i);
    for (var e = 0u; e < E4; e++) { acc[e] = fma(vec4<f32>(ds), kr[e], acc[e]); }
  }
  for (var e = 0u; e < E4; e++) { dq[qi + e] = acc[e] * SCALE; }
}

@compute @workgroup_size(WG)
fn flash_attention_backward_key(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= B * H * T) { return; }
  let at = unpack(r);
  let b = at.x;
  let h = at.y;
  let j = at.z;
  let kj = row(b, j, h);
  var kr: Row;
  var vr: Row;
  var acc_k: Row;
  var acc_v: Row;
  for (var e = 0u; e < E4; e++) {
    kr[e] = k[kj + e];
    vr[e] = v[kj + e];
    acc_k[e] = vec4<f32>(0.0);
    acc_v[e] = vec4<f32>(0.0);
  }
  let bh = r - j; // [B, H, T] index of (b, h, 0)
  for (var i = j; i < T; i++) {
    let qi = row(b, i, h);
    var qr: Row; // q_i and dz_i, read once for the score and the sums
    var dzr: Row;
    var dot_qk = 0.0;
    var dp = 0.0;
    for (var e = 0u; e < E4; e++) {
      qr[e] = q[qi + e];
      dzr[e] = dz_q[qi + e];
      dot_qk += dot(qr[e], kr[e]);
      dp += dot(dzr[e], vr[e]);
    }
    let p = exp(dot_qk * SCALE - saved_lse[bh + i]);
    let ds = p * (dp - delta[bh + i]);
    for (var e = 0u; e < E4; e++) {
      acc_v[e] = fma(vec4<f32>(p), dzr[e], acc_v[e]);
      acc_k[e] = fma(vec4<f32>(ds), qr[e], acc_k[e]);
    }
  }
  for (var e = 0u; e < E4; e++) {
    dk[kj + e] = acc_k[e] * SCALE;
    dv[kj + e] = acc_v[e];
  }
}
