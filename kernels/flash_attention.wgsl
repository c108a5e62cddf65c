// Causal multi-head attention, tiled with an online softmax (FlashAttention-2's schedule): the same
// maths as attention.wgsl, on the same [B, T, H, E] q, k, v, z, but [B, H, T, T] is never stored.
// Shape letters: B batch, T positions (query i, key j), H heads, E d_head. SCALE multiplies q·k.
// ROWS is the workgroup size: the query (or key) rows one workgroup owns, one per invocation. COLS
// is the tile of the other side held in workgroup memory at a time (sized by the launcher to fit).
//
//   flash_attention_forward         workgroup (query tile, h, b) (b folded: batch_of); invocation i; key tiles 0 .. the
//                                   diagonal in order, a running max m and sum l per row:
//                                   m' = max(m, max_j s_j), acc = acc·exp(m - m') + Σ_j exp(s_j - m') v_j
//                                   z[b,i,h,:] = acc / l, lse[b,h,i] = m + log(l)
//   flash_attention_backward_delta  one invocation per row (b, h, i): delta = dz[b,i,h,:]·z[b,i,h,:]
//                                   (= Σ_j pattern·dpattern, the softmax backward's row term)
//   flash_attention_backward_query  workgroup (query tile, h, b); invocation i; key tiles in order:
//                                   p = exp(s - lse_i), ds = p·(dz_i·v_j - delta_i), dq_i = SCALE Σ_j ds·k_j
//   flash_attention_backward_key    workgroup (key tile, h, b); invocation j; query tiles from the
//                                   diagonal to T in order: dv_j = Σ_i p·dz_i, dk_j = SCALE Σ_i ds·q_i
//
// Deterministic: each output row is one invocation's loops in a fixed order, dq and dk/dv in two
// launches (no atomics). The pattern is recomputed from lse in the backward, so it is exp(s - lse),
// not the forward's exp(s - m) / l: the same to a few ulps, not the same bits.

const B: u32 = {{B}}u;
const T: u32 = {{T}}u;
const H: u32 = {{H}}u;
const E: u32 = {{E}}u;
const SCALE: f32 = {{SCALE}};
const ROWS: u32 = {{ROWS}}u;
const COLS: u32 = {{COLS}}u;
const WG: u32 = 256u;
// Below any f32 score: the running max before the first key, so exp(m - m') is exactly 0.
const LOWEST: f32 = -3.4028234e38;

// flash_attention_forward binds (q, k, v, z, lse).
@group(0) @binding(0) var<storage, read> q: array<f32>;              // [B, T, H, E]
@group(0) @binding(1) var<storage, read> k: array<f32>;              // [B, T, H, E]
@group(0) @binding(2) var<storage, read> v: array<f32>;              // [B, T, H, E]
@group(0) @binding(3) var<storage, read_write> z: array<f32>;        // [B, T, H, E]
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;      // [B, H, T]

// flash_attention_backward_delta binds (dz, saved_z, delta_out).
@group(0) @binding(0) var<storage, read> dz: array<f32>;             // [B, T, H, E]
@group(0) @binding(1) var<storage, read> saved_z: array<f32>;        // [B, T, H, E]
@group(0) @binding(2) var<storage, read_write> delta_out: array<f32>; // [B, H, T]

// flash_attention_backward_query binds (q, k, v, dz, saved_lse, delta, dq): q, k, v, dz as above.
@group(0) @binding(3) var<storage, read> dz_q: array<f32>;           // [B, T, H, E]
@group(0) @binding(4) var<storage, read> saved_lse: array<f32>;      // [B, H, T]
@group(0) @binding(5) var<storage, read> delta: array<f32>;          // [B, H, T]
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;       // [B, T, H, E]

// flash_attention_backward_key binds (q, k, v, dz, saved_lse, delta, dk, dv).
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;       // [B, T, H, E]
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;       // [B, T, H, E]

// One tile of COLS rows of two [T, E] operands (k and v, or q and dz) and two per-row values.
var<workgroup> tile_a: array<f32, COLS * E>;
var<workgroup> tile_b: array<f32, COLS * E>;
var<workgroup> tile_r: array<f32, COLS>;
var<workgroup> tile_s: array<f32, COLS>;

/** Offset of [b, t, h, 0] in a [B, T, H, E] tensor. */
fn row(b: u32, t: u32, h: u32) -> u32 {
  return ((b * T + t) * H + h) * E;
}

/**
 * SCALE · own·tile_a[c, :], summed over E in order, as attention.wgsl's `score`: the same bits in
 * the forward and both backward passes (q·k and k·q multiply alike).
 */
fn score(own: ptr<function, array<f32, E>>, c: u32) -> f32 {
  var dot = 0.0;
  for (var e = 0u; e < E; e++) { dot += (*own)[e] * tile_a[c * E + e]; }
  return dot * SCALE;
}

/**
 * The batch row of a workgroup (row tile, y, z): y counts H heads times the part of the batch
 * folded into it, z the rest, so a batch over 65,535 still launches (`tiles` in the launcher).
 * Uniform across the workgroup, so a workgroup past the end returns whole.
 */
fn batch_of(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.z + (wid.y / H) * nwg.z;
}

/** The last key (or first query) row a tile of ROWS rows starting at `start` needs, kept < T. */
fn last_row(start: u32) -> u32 {
  return min(start + ROWS, T) - 1u;
}

@compute @workgroup_size(ROWS)
fn flash_attention_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y % H;
  let b = batch_of(wid, nwg);
  if (b >= B) { return; } // past a folded batch's end: the whole workgroup, before any barrier
  let i0 = wid.x * ROWS;
  let i = i0 + lid;
  let live = i < T;
  let qi = row(b, min(i, T - 1u), h);
  var qr: array<f32, E>;
  var acc: array<f32, E>;
  for (var e = 0u; e < E; e++) {
    qr[e] = q[qi + e];
    acc[e] = 0.0;
  }
  var m = LOWEST;
  var l = 0.0;
  var s: array<f32, COLS>;

  // Loop bounds depend on the workgroup only, so every barrier is reached by all invocations.
  let j_end = last_row(i0) + 1u;
  for (var j0 = 0u; j0 < j_end; j0 += COLS) {
    let n = min(COLS, j_end - j0);
    workgroupBarrier();
    for (var x = lid; x < n * E; x += ROWS) {
      let src = row(b, j0 + x / E, h) + x % E;
      tile_a[x] = k[src];
      tile_b[x] = v[src];
    }
    workgroupBarrier();
    // This row's keys in the tile: j0 + c ≤ i.
    var count = 0u;
    if (live && i >= j0) { count = min(n, i - j0 + 1u); }
    if (count > 0u) {
      var tile_max = LOWEST;
      for (var c = 0u; c < count; c++) {
        s[c] = score(&qr, c);
        tile_max = max(tile_max, s[c]);
      }
      let m_new = max(m, tile_max);
      let rescale = exp(m - m_new);
      l *= rescale;
      for (var e = 0u; e < E; e++) { acc[e] *= rescale; }
      for (var c = 0u; c < count; c++) {
        let p = exp(s[c] - m_new);
        l += p;
        for (var e = 0u; e < E; e++) { acc[e] += p * tile_b[c * E + e]; }
      }
      m = m_new;
    }
  }
  if (!live) { return; }
  for (var e = 0u; e < E; e++) { z[qi + e] = acc[e] / l; }
  lse[(b * H + h) * T + i] = m + log(l);
}

@compute @workgroup_size(WG)
fn flash_attention_backward_delta(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG; // (b, h, i)
  if (r >= B * H * T) { return; }
  let i = r % T;
  let h = (r / T) % H;
  let b = r / (T * H);
  let zi = row(b, i, h);
  var dot = 0.0;
  for (var e = 0u; e < E; e++) { dot += dz[zi + e] * saved_z[zi + e]; }
  delta_out[r] = dot;
}

@compute @workgroup_size(ROWS)
fn flash_attention_backward_query(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y % H;
  let b = batch_of(wid, nwg);
  if (b >= B) { return; } // past a folded batch's end: the whole workgroup, before any barrier
  let i0 = wid.x * ROWS;
  let i = i0 + lid;
  let live = i < T;
  let qi = row(b, min(i, T - 1u), h);
  let li = (b * H + h) * T + min(i, T - 1u);
  var qr: array<f32, E>;
  var dzr: array<f32, E>;
  var acc: array<f32, E>;
  for (var e = 0u; e < E; e++) {
    qr[e] = q[qi + e];
    dzr[e] = dz_q[qi + e];
    acc[e] = 0.0;
  }
  let lse_i = saved_lse[li];
  let delta_i = delta[li];

  let j_end = last_row(i0) + 1u;
  for (var j0 = 0u; j0 < j_end; j0 += COLS) {
    let n = min(COLS, j_end - j0);
    workgroupBarrier();
    for (var x = lid; x < n * E; x += ROWS) {
      let src = row(b, j0 + x / E, h) + x % E;
      tile_a[x] = k[src];
      tile_b[x] = v[src];
    }
    workgroupBarrier();
    var count = 0u;
    if (live && i >= j0) { count = min(n, i - j0 + 1u); }
    for (var c = 0u; c < count; c++) {
      let s = score(&qr, c);
      var dp = 0.0;
      for (var e = 0u; e < E; e++) { dp += dzr[e] * tile_b[c * E + e]; }
      let ds = exp(s - lse_i) * (dp - delta_i);
      for (var e = 0u; e < E; e++) { acc[e] += ds * tile_a[c * E + e]; }
    }
  }
  if (!live) { return; }
  for (var e = 0u; e < E; e++) { dq[qi + e] = acc[e] * SCALE; }
}

@compute @workgroup_size(ROWS)
fn flash_attention_backward_key(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y % H;
  let b = batch_of(wid, nwg);
  if (b >= B) { return; } // past a folded batch's end: the whole workgroup, before any barrier
  let j0 = wid.x * ROWS;
  let j = j0 + lid;
  let live = j < T;
  let kj = row(b, min(j, T - 1u), h);
  var kr: array<f32, E>;
  var vr: array<f32, E>;
  var acc_k: array<f32, E>;
  var acc_v: array<f32, E>;
  for (var e = 0u; e < E; e++) {
    kr[e] = k[kj + e];
    vr[e] = v[kj + e];
    acc_k[e] = 0.0;
    acc_v[e] = 0.0;
  }
  let bh = (b * H + h) * T;

  // Queries i ≥ j: from the tile's first key row to the end, COLS at a time, in order.
  for (var i0 = j0; i0 < T; i0 += COLS) {
    let n = min(COLS, T - i0);
    workgroupBarrier();
    for (var x = lid; x < n * E; x += ROWS) {
      let src = row(b, i0 + x / E, h) + x % E;
      tile_a[x] = q[src];
      tile_b[x] = dz_q[src];
    }
    for (var x = lid; x < n; x += ROWS) {
      tile_r[x] = saved_lse[bh + i0 + x];
      tile_s[x] = delta[bh + i0 + x];
    }
    workgroupBarrier();
    // This key's queries in the tile: i0 + c ≥ j.
    var first = n;
    if (live) { first = select(0u, min(n, j - i0), j > i0); }
    for (var c = first; c < n; c++) {
      let s = score(&kr, c);
      var dp = 0.0;
      for (var e = 0u; e < E; e++) { dp += tile_b[c * E + e] * vr[e]; }
      let p = exp(s - tile_r[c]);
      let ds = p * (dp - tile_s[c]);
      for (var e = 0u; e < E; e++) {
        acc_v[e] += p * tile_b[c * E + e];
        acc_k[e] += ds * tile_a[c * E + e];
      }
    }
  }
  if (!live) { return; }
  for (var e = 0u; e < E; e++) {
    dk[kj + e] = acc_k[e] * SCALE;
    dv[kj + e] = acc_v[e];
  }
}
