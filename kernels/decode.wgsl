// One step of cached decoding (generation with a key-value cache, engine/sample/gpu_cached.ts):
// the parts of a one-token forward that depend on the position, read from `step` = [token, pos]
// so the same pre-bound dispatches serve every step. Everything else (LayerNorm, the projections,
// the MLP, the unembedding) is the training kernels on one row.
// Shape letters: C n_ctx, V d_vocab, D d_model, H n_heads, E d_head.
//
// decode_embed, an invocation per element: resid[d] = W_E[token, d] + W_pos[pos, d], or W_E[token, d]
//   alone where WITH_POS is false (a shortformer model: its positions join only q and k).
// decode_pos, an invocation per element: pos_row[d] = W_pos[pos, d], what a shortformer's q and k
//   inputs add at this step.
// decode_attention, a workgroup per head h: appends k_new[h], v_new[h] at row pos of the caches,
// then attends from q[h] over rows 0 ..= pos (the causal mask is the cache's end):
//   s_j = q·k_j / √E, p = softmax(s), z[h] = Σ_j p_j v_j.
// The row at pos is read from k_new, v_new (what this dispatch writes is not read back). Scores
// live in workgroup memory (C <= 1,024 floats); each thread takes the keys j ≡ lid (mod WG), the
// max and sum are combined from WG partials in a fixed order: the same bits on every run.

const C: u32 = {{C}}u;
const V: u32 = {{V}}u;
const D: u32 = {{D}}u;
const H: u32 = {{H}}u;
const E: u32 = {{E}}u;
const HE: u32 = H * E;
const WITH_POS: bool = {{WITH_POS}};   // decode_embed adds W_pos
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> step: array<i32>;             // [2]: token, pos

// decode_embed
@group(0) @binding(1) var<storage, read> W_E: array<f32>;              // [V, D]
@group(0) @binding(2) var<storage, read> W_pos: array<f32>;            // [C, D]
@group(0) @binding(3) var<storage, read_write> resid: array<f32>;      // [D]

@compute @workgroup_size(WG)
fn decode_embed(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  if (d >= D) { return; }
  let token = u32(clamp(step[0], 0, i32(V) - 1));
  let pos = u32(clamp(step[1], 0, i32(C) - 1));
  var e = W_E[token * D + d];
  if (WITH_POS) { e += W_pos[pos * D + d]; }
  resid[d] = e;
}

// decode_pos (step as above)
@group(0) @binding(1) var<storage, read> pos_table: array<f32>;        // [C, D]: W_pos
@group(0) @binding(2) var<storage, read_write> pos_row: array<f32>;    // [D]

@compute @workgroup_size(WG)
fn decode_pos(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  if (d >= D) { return; }
  let pos = u32(clamp(step[1], 0, i32(C) - 1));
  pos_row[d] = pos_table[pos * D + d];
}

// decode_attention (step as above)
@group(0) @binding(1) var<storage, read> q: array<f32>;                // [H, E]
@group(0) @binding(2) var<storage, read> k_new: array<f32>;            // [H, E]
@group(0) @binding(3) var<storage, read> v_new: array<f32>;            // [H, E]
@group(0) @binding(4) var<storage, read_write> k_cache: array<f32>;    // [C, H, E]
@group(0) @binding(5) var<storage, read_write> v_cache: array<f32>;    // [C, H, E]
@group(0) @binding(6) var<storage, read_write> z: array<f32>;          // [H, E]

var<workgroup> scores: array<f32, C>;
var<workgroup> partial_max: array<f32, WG>;
var<workgroup> partial_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn decode_attention(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let h = wid.x;
  let lid = l.x;
  let pos = u32(clamp(step[1], 0, i32(C) - 1));
  let head = h * E;
  for (var e = lid; e < E; e += WG) {
    k_cache[pos * HE + head + e] = k_new[head + e];
    v_cache[pos * HE + head + e] = v_new[head + e];
  }
  let scale = 1.0 / sqrt(f32(E));
  var m = -3.4e38;
  for (var j = lid; j <= pos; j += WG) {
    var s = 0.0;
    for (var e = 0u; e < E; e++) {
      let k = select(k_cache[j * HE + head + e], k_new[head + e], j == pos);
      s += q[head + e] * k;
    }
    scores[j] = s * scale;
    m = max(m, s * scale);
  }
  partial_max[lid] = m;
  workgroupBarrier();
  var row_max = -3.4e38;
  for (var i = 0u; i < WG; i++) { row_max = max(row_max, partial_max[i]); }
  var sum = 0.0;
  for (var j = lid; j <= pos; j += WG) {
    let p = exp(scores[j] - row_max);
    scores[j] = p;
    sum += p;
  }
  partial_sum[lid] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < WG; i++) { total += partial_sum[i]; }
  for (var e = lid; e < E; e += WG) {
    var acc = 0.0;
    for (var j = 0u; j <= pos; j++) {
      acc += scores[j] * select(v_cache[j * HE + head + e], v_new[head + e], j == pos);
    }
    z[head + e] = acc / total;
  }
}
