// Causal multi-head attention without [B, H, T, T], as flash_attention_direct.wgsl, for software
// adapters whose subgroups are 8 wide (llvmpipe): a workgroup is one subgroup of 8 lanes that owns
// a tile of Q = 8·R rows (b, h, t0 .. t0 + Q - 1), lane l the rows t0 + l + 8r (r < R), and walks
// the other side's rows in chunks of 8, lane l loading row c + l of the chunk and subgroupBroadcast
// handing it to the others.
//
// Why: on llvmpipe every float a lane loads from a storage buffer costs far more than an fma, while
// a broadcast is a register move (matmul_subgroup.wgsl measured it). flash_attention_direct.wgsl's
// lane loads each key (or query) row itself: 2E floats a (query, key) pair. Here a lane loads 2E
// floats a chunk of 8 keys, shared by the tile's Q rows: 8R times fewer loads a pair.
//
// Shape letters: B batch, T positions (query i, key j), H heads, E d_head (E4 = E / 4 vec4s).
// SCALE multiplies q·k. R, the rows a lane owns, is the launcher's choice per entry point: more
// rows share each broadcast, but their sums live on the thread's stack.
//
//   flash_attention_forward         tile of queries; key chunks up to the tile's last row: scores
//                                   of the chunk, then FlashAttention's running max m and sum l
//                                   rescaled once a chunk; z = acc / l, lse = m + log(l)
//   flash_attention_backward_query  tile of queries; key chunks j ≤ i: p = exp(s - lse_i),
//                                   ds = p·(dz_i·v_j - delta_i), dq_i = SCALE Σ_j ds·k_j
//   flash_attention_backward_key    tile of keys; query chunks i ≥ j: dv_j = Σ_i p·dz_i,
//                                   dk_j = SCALE Σ_i ds·q_i
//
// delta_i = dz_i·z_i comes from flash_attention.wgsl's flash_attention_backward_delta.
// Sums declared in a loop are zeroed explicitly (`var s = Chunk();`): on lavapipe a bare
// `var s: Chunk;` kept the previous chunk's values.
// Deterministic: each output row is one lane's sum in a fixed order. Rows past T (a ragged last
// tile) and keys past a row's diagonal are computed with clamped loads and weight 0, so every lane
// takes part in every broadcast; only rows < T are written.

const B: u32 = {{B}}u;
const T: u32 = {{T}}u;
const H: u32 = {{H}}u;
const E: u32 = {{E}}u;
const SCALE: f32 = {{SCALE}};
const E4: u32 = E / 4u;
const R: u32 = {{R}}u; // rows a lane owns
const Q: u32 = 8u * R; // rows a tile
const TILES: u32 = (T + Q - 1u) / Q; // tiles per (b, h)
// Below any f32 score: the running max before the first key, so exp(m - m') is exactly 0.
const LOWEST: f32 = -3.4028234e38;

alias Row = array<vec4<f32>, E4>;
alias Rows = array<Row, R>; // a lane's R rows
alias Chunk = array<array<f32, 8>, R>; // a value for each of the lane's rows and the chunk's 8 rows
alias Lanes = array<vec4<f32>, 8>; // a vec4 of each lane

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

/** Offset in vec4s of [b, t, h, 0] in a [B, T, H, E] tensor, t clamped to the last row. */
fn row(b: u32, t: u32, h: u32) -> u32 {
  return ((b * T + min(t, T - 1u)) * H + h) * E4;
}

/** x of lanes 0 .. 7, to every lane (subgroupBroadcast takes a constant lane: the 8 written out). */
fn lanes8(x: vec4<f32>) -> Lanes {
  return Lanes(
    subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u),
    subgroupBroadcast(x, 3u), subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u),
    subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u),
  );
}

/** s[r][c] += x[r][e] · y[c]: the e-th vec4 of the dot of each own row with each chunk row. */
fn dots(s: ptr<function, Chunk>, x: ptr<function, Rows>, e: u32, y: Lanes) {
  for (var r = 0u; r < R; r++) {
    for (var c = 0u; c < 8u; c++) { (*s)[r][c] += dot((*x)[r][e], y[c]); }
  }
}

/** weigh's keep where there is nothing to rescale. */
const ONES = array<f32, R>({{ONES}});

/**
 * acc[r][e] = keep[r] · acc[r][e] + Σ_c w[r][c] · y[c]: the e-th vec4 of each own row's weighted
 * sum of chunk rows, the sum so far rescaled by keep (the forward's exp(m - m'), else 1).
 */
fn weigh(acc: ptr<function, Rows>, keep: array<f32, R>, w: ptr<function, Chunk>, e: u32, y: Lanes) {
  for (var r = 0u; r < R; r++) {
    var sum = (*acc)[r][e] * keep[r];
    for (var c = 0u; c < 8u; c++) { sum = fma(vec4<f32>((*w)[r][c]), y[c], sum); }
    (*acc)[r][e] = sum;
  }
}

/** (b, h, first row of the tile) of workgroup `id`, tiles fastest. */
fn tileOf(id: u32) -> vec3<u32> {
  return vec3<u32>(id / (TILES * H), (id / TILES) % H, (id % TILES) * Q);
}

@compute @workgroup_size(8)
fn flash_attention_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let id = wid.x + wid.y * nwg.x;
  if (id >= B * H * TILES) { return; } // a whole workgroup: the subgroup stays uniform
  let at = tileOf(id);
  let b = at.x;
  let h = at.y;
  let i0 = at.z + lane; // this lane's first row; its rows are i0 + 8r
  var qr: Rows;
  for (var r = 0u; r < R; r++) {
    let at_r = row(b, i0 + 8u * r, h);
    for (var e = 0u; e < E4; e++) { qr[r][e] = q[at_r + e]; }
  }
  var acc: Rows;
  var m: array<f32, R>;
  var l: array<f32, R>;
  for (var r = 0u; r < R; r++) { m[r] = LOWEST; }
  let end = min(at.z + Q, T); // keys up to the tile's last row
  for (var c0 = 0u; c0 < end; c0 += 8u) {
    let cl = row(b, c0 + lane, h); // this lane's row of the chunk
    var kl: Row;
    var vl: Row;
    for (var e = 0u; e < E4; e++) {
      kl[e] = k[cl + e];
      vl[e] = v[cl + e];
    }
    var s = Chunk();
    for (var e = 0u; e < E4; e++) { dots(&s, &qr, e, lanes8(kl[e])); }
    var p: Chunk;
    var keep: array<f32, R>; // exp(m - m'): what the sums so far are rescaled by
    for (var r = 0u; r < R; r++) {
      let i = i0 + 8u * r;
      var top = m[r];
      for (var c = 0u; c < 8u; c++) {
        s[r][c] *= SCALE;
        top = max(top, select(LOWEST, s[r][c], c0 + c <= i));
      }
      keep[r] = exp(m[r] - top);
      var sum = l[r] * keep[r];
      for (var c = 0u; c < 8u; c++) {
        p[r][c] = select(0.0, exp(s[r][c] - top), c0 + c <= i);
        sum += p[r][c];
      }
      l[r] = sum;
      m[r] = top;
    }
    for (var e = 0u; e < E4; e++) { weigh(&acc, keep, &p, e, lanes8(vl[e])); }
  }
  for (var r = 0u; r < R; r++) {
    let i = i0 + 8u * r;
    if (i < T) {
      let zi = row(b, i, h);
      for (var e = 0u; e < E4; e++) { z[zi + e] = acc[r][e] / l[r]; }
      lse[(b * H + h) * T + i] = m[r] + log(l[r]);
    }
  }
}

@compute @workgroup_size(8)
fn flash_attention_backward_query(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let id = wid.x + wid.y * nwg.x;
  if (id >= B * H * TILES) { return; }
  let at = tileOf(id);
  let b = at.x;
  let h = at.y;
  let i0 = at.z + lane;
  let bh = (b * H + h) * T;
  var qr: Rows;
  var dzr: Rows;
  for (var r = 0u; r < R; r++) {
    let at_r = row(b, i0 + 8u * r, h);
    for (var e = 0u; e < E4; e++) {
      qr[r][e] = q[at_r + e];
      dzr[r][e] = dz_q[at_r + e];
    }
  }
  var lse_r: array<f32, R>;
  var delta_r: array<f32, R>;
  for (var r = 0u; r < R; r++) {
    let i = min(i0 + 8u * r, T - 1u);
    lse_r[r] = saved_lse[bh + i];
    delta_r[r] = delta[bh + i];
  }
  var acc: Rows;
  let end = min(at.z + Q, T);
  for (var c0 = 0u; c0 < end; c0 += 8u) {
    let cl = row(b, c0 + lane, h); // this lane's row of the chunk
    var kl: Row;
    var vl: Row;
    for (var e = 0u; e < E4; e++) {
      kl[e] = k[cl + e];
      vl[e] = v[cl + e];
    }
    var s = Chunk();
    var dp = Chunk();
    for (var e = 0u; e < E4; e++) {
      dots(&s, &qr, e, lanes8(kl[e]));
      dots(&dp, &dzr, e, lanes8(vl[e]));
    }
    var ds: Chunk;
    for (var r = 0u; r < R; r++) {
      let i = i0 + 8u * r;
      for (var c = 0u; c < 8u; c++) {
        let p = select(0.0, exp(s[r][c] * SCALE - lse_r[r]), c0 + c <= i);
        ds[r][c] = p * (dp[r][c] - delta_r[r]);
      }
    }
    for (var e = 0u; e < E4; e++) { weigh(&acc, ONES, &ds, e, lanes8(kl[e])); }
  }
  for (var r = 0u; r < R; r++) {
    let i = i0 + 8u * r;
    if (i < T) {
      let qi = row(b, i, h);
      for (var e = 0u; e < E4; e++) { dq[qi + e] = acc[r][e] * SCALE; }
    }
  }
}

@compute @workgroup_size(8)
fn flash_attention_backward_key(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let id = wid.x + wid.y * nwg.x;
  if (id >= B * H * TILES) { return; }
  let at = tileOf(id);
  let b = at.x;
  let h = at.y;
  let j0 = at.z + lane; // this lane's first key; its keys are j0 + 8r
  let bh = (b * H + h) * T;
  var kr: Rows;
  var vr: Rows;
  for (var r = 0u; r < R; r++) {
    let at_r = row(b, j0 + 8u * r, h);
    for (var e = 0u; e < E4; e++) {
      kr[r][e] = k[at_r + e];
      vr[r][e] = v[at_r + e];
    }
  }
  var acc_k: Rows;
  var acc_v: Rows;
  for (var c0 = at.z; c0 < T; c0 += 8u) { // queries from the tile's first key on
    let cl = row(b, c0 + lane, h);
    var ql: Row;
    var dzl: Row;
    for (var e = 0u; e < E4; e++) {
      ql[e] = q[cl + e];
      dzl[e] = dz_q[cl + e];
    }
    let il = min(c0 + lane, T - 1u);
    let saved = lanes8(vec4<f32>(saved_lse[bh + il], delta[bh + il], 0.0, 0.0));
    var s = Chunk();
    var dp = Chunk();
    for (var e = 0u; e < E4; e++) {
      dots(&s, &kr, e, lanes8(ql[e]));
      dots(&dp, &vr, e, lanes8(dzl[e]));
    }
    var p: Chunk;
    var ds: Chunk;
    for (var r = 0u; r < R; r++) {
      let j = j0 + 8u * r;
      for (var c = 0u; c < 8u; c++) {
        let i = c0 + c;
        p[r][c] = select(0.0, exp(s[r][c] * SCALE - saved[c].x), i >= j && i < T);
        ds[r][c] = p[r][c] * (dp[r][c] - saved[c].y);
      }
    }
    for (var e = 0u; e < E4; e++) {
      weigh(&acc_v, ONES, &p, e, lanes8(dzl[e]));
      weigh(&acc_k, ONES, &ds, e, lanes8(ql[e]));
    }
  }
  for (var r = 0u; r < R; r++) {
    let j = j0 + 8u * r;
    if (j < T) {
      let kj = row(b, j, h);
      for (var e = 0u; e < E4; e++) {
        dk[kj + e] = acc_k[r][e] * SCALE;
        dv[kj + e] = acc_v[r][e];
      }
    }
  }
}
