// Causal multi-head attention after the projections, as TransformerLens' `hook_q/k/v` ->
// `hook_attn_scores` -> `hook_pattern` -> `hook_z`. Shape letters: B batch, T positions (query i,
// key j), H heads, E d_head. SCALE multiplies q·k (1/sqrt(E) unless the launcher is told otherwise).
//
//   attention_forward         one invocation per query row (b, h, i):
//                             pattern[b,h,i,j] = softmax_j≤i(SCALE · q[b,i,h,:]·k[b,j,h,:]), 0 for j > i
//                             z[b,i,h,:]       = Σ_j≤i pattern[b,h,i,j] · v[b,j,h,:]
//   attention_scores          one invocation per (b, h, i, j): SCALE · q·k, -Infinity for j > i
//                             (hook_attn_scores; the same `score` as the forward, so the same bits)
//   attention_backward_query  one invocation per query row (b, h, i):
//                             dpattern[j] = dz[b,i,h,:]·v[b,j,h,:]
//                             dscores[b,h,i,j] = pattern · (dpattern[j] - Σ_j' pattern·dpattern[j'])
//                             dq[b,i,h,:] = SCALE · Σ_j≤i dscores[b,h,i,j] · k[b,j,h,:]
//   attention_backward_key    one invocation per key row (b, h, j), summing i = j .. T-1 in order:
//                             dk[b,j,h,:] = SCALE · Σ_i dscores[b,h,i,j] · q[b,i,h,:]
//                             dv[b,j,h,:] = Σ_i pattern[b,h,i,j] · dz[b,i,h,:]
//
// Deterministic: every sum is one invocation's loop in a fixed order. The softmax subtracts the row
// max first, so no exponent is positive and the row sum is at least 1. Only the lower triangle of
// dscores (j ≤ i) is written; nothing reads the rest. The forward writes each pattern row three
// times (scores, exponentials, probabilities) rather than keep a T-long private array.

const B: u32 = {{B}}u;
const T: u32 = {{T}}u;
const H: u32 = {{H}}u;
const E: u32 = {{E}}u;
const SCALE: f32 = {{SCALE}};
const WG: u32 = 256u;
const NEG_INF_BITS: u32 = 0xff800000u; // -Infinity as f32 bits

// attention_forward binds (q, k, v, pattern, z); attention_scores binds (q, k, scores).
@group(0) @binding(0) var<storage, read> q: array<f32>;              // [B, T, H, E]
@group(0) @binding(1) var<storage, read> k: array<f32>;              // [B, T, H, E]
@group(0) @binding(2) var<storage, read> v: array<f32>;              // [B, T, H, E]
@group(0) @binding(3) var<storage, read_write> pattern: array<f32>;  // [B, H, T, T]
@group(0) @binding(4) var<storage, read_write> z: array<f32>;        // [B, T, H, E]
// f32 bits, so that -Infinity is written as bits and no constant or fast-math rule can touch it.
@group(0) @binding(2) var<storage, read_write> scores: array<u32>;   // [B, H, T, T]

// attention_backward_query binds (dz, k, v, saved_pattern, dscores, dq): k and v as above.
@group(0) @binding(0) var<storage, read> dz: array<f32>;             // [B, T, H, E]
@group(0) @binding(3) var<storage, read> saved_pattern: array<f32>;  // [B, H, T, T]
@group(0) @binding(4) var<storage, read_write> dscores: array<f32>;  // [B, H, T, T], j ≤ i only
@group(0) @binding(5) var<storage, read_write> dq: array<f32>;       // [B, T, H, E]

// attention_backward_key binds (dz, key_q, key_pattern, key_dscores, dk, dv): the slots differ from
// the passes above, so q, the pattern and dscores have other names here.
@group(0) @binding(1) var<storage, read> key_q: array<f32>;          // [B, T, H, E]
@group(0) @binding(2) var<storage, read> key_pattern: array<f32>;    // [B, H, T, T]
@group(0) @binding(3) var<storage, read> key_dscores: array<f32>;    // [B, H, T, T], j ≤ i only
@group(0) @binding(4) var<storage, read_write> dk: array<f32>;       // [B, T, H, E]
@group(0) @binding(5) var<storage, read_write> dv: array<f32>;       // [B, T, H, E]

/** The invocation's flat index, folded over two grid dimensions by grid1d. */
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

/** Offset of [b, t, h, 0] in a [B, T, H, E] tensor. */
fn row(b: u32, t: u32, h: u32) -> u32 {
  return ((b * T + t) * H + h) * E;
}

/** SCALE · q[b,i,h,:]·k[b,j,h,:], summed over E in order. */
fn score(b: u32, h: u32, i: u32, j: u32) -> f32 {
  let qi = row(b, i, h);
  let kj = row(b, j, h);
  var dot = 0.0;
  for (var e = 0u; e < E; e++) {
    dot += q[qi + e] * k[kj + e];
  }
  return dot * SCALE;
}

@compute @workgroup_size(WG)
fn attention_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat(gid, nwg); // (b, h, i)
  if (r >= B * H * T) { return; }
  let i = r % T;
  let h = (r / T) % H;
  let b = r / (T * H);
  let p = r * T; // pattern[b, h, i, 0]

  var m = score(b, h, i, 0u);
  pattern[p] = m;
  for (var j = 1u; j <= i; j++) {
    let s = score(b, h, i, j);
    pattern[p + j] = s;
    m = max(m, s);
  }
  var total = 0.0;
  for (var j = 0u; j <= i; j++) {
    let x = exp(pattern[p + j] - m);
    pattern[p + j] = x;
    total += x;
  }
  for (var j = 0u; j <= i; j++) {
    pattern[p + j] = pattern[p + j] / total;
  }
  for (var j = i + 1u; j < T; j++) {
    pattern[p + j] = 0.0;
  }

  let zi = row(b, i, h);
  for (var e = 0u; e < E; e++) {
    var acc = 0.0;
    for (var j = 0u; j <= i; j++) {
      acc += pattern[p + j] * v[row(b, j, h) + e];
    }
    z[zi + e] = acc;
  }
}

@compute @workgroup_size(WG)
fn attention_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat(gid, nwg); // (b, h, i, j)
  if (n >= B * H * T * T) { return; }
  let j = n % T;
  let i = (n / T) % T;
  let h = (n / (T * T)) % H;
  let b = n / (T * T * H);
  if (j > i) {
    scores[n] = NEG_INF_BITS;
  } else {
    scores[n] = bitcast<u32>(score(b, h, i, j));
  }
}

@compute @workgroup_size(WG)
fn attention_backward_query(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat(gid, nwg); // (b, h, i)
  if (r >= B * H * T) { return; }
  let i = r % T;
  let h = (r / T) % H;
  let b = r / (T * H);
  let p = r * T; // [b, h, i, 0]
  let zi = row(b, i, h);

  // dscores first holds dpattern, then pattern · (dpattern - Σ pattern · dpattern).
  var weighted = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vj = row(b, j, h);
    var dot = 0.0;
    for (var e = 0u; e < E; e++) {
      dot += dz[zi + e] * v[vj + e];
    }
    dscores[p + j] = dot;
    weighted += saved_pattern[p + j] * dot;
  }
  for (var j = 0u; j <= i; j++) {
    dscores[p + j] = saved_pattern[p + j] * (dscores[p + j] - weighted);
  }

  for (var e = 0u; e < E; e++) {
    var acc = 0.0;
    for (var j = 0u; j <= i; j++) {
      acc += dscores[p + j] * k[row(b, j, h) + e];
    }
    dq[zi + e] = acc * SCALE;
  }
}

@compute @workgroup_size(WG)
fn attention_backward_key(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat(gid, nwg); // (b, h, j)
  if (r >= B * H * T) { return; }
  let j = r % T;
  let h = (r / T) % H;
  let b = r / (T * H);
  let bh = (b * H + h) * T * T; // [b, h, 0, 0]
  let kj = row(b, j, h);

  for (var e = 0u; e < E; e++) {
    var acc_k = 0.0;
    var acc_v = 0.0;
    for (var i = j; i < T; i++) {
      let ij = bh + i * T + j;
      let qi = row(b, i, h) + e;
      acc_k += key_dscores[ij] * key_q[qi];
      acc_v += key_pattern[ij] * dz[qi];
    }
    dk[kj + e] = acc_k * SCALE;
    dv[kj + e] = acc_v;
  }
}
