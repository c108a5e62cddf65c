// Token and positional embedding, fused (TransformerLens' Embed + PosEmbed: hook_embed +
// hook_pos_embed = blocks.0.hook_resid_pre), and the token embedding's gradient.
// Shape letters: B batch, T positions (T <= C), C n_ctx, V vocabulary (d_vocab), D d_model;
// N = B·T tokens.
//
// embed_forward, an invocation per element:
//   resid[b, t, :] = W_E[tokens[b, t], :] + W_pos[t, :]
//   or, where WITH_POS is false (a shortformer model, whose positions join only each layer's
//   queries and keys), resid[b, t, :] = W_E[tokens[b, t], :].
//   W_E may be a block of the embedding's rows, from row V0 on (a whole GPT-2 W_E is over
//   lavapipe's binding size): ids are read as id − V0, and with ACC the block's rows are added to
//   resid as it stands (the first block wrote it) instead.
// embed_backward, a workgroup per VB consecutive vocabulary rows v0 .. v0 + VB - 1:
//   dW_E[v, :] = Σ over (b, t) with tokens[b, t] == v of dresid[b, t, :], in increasing b·T + t.
//   The workgroup reads the tokens WG at a time; each invocation tests one and, on a hit, sets its
//   bit in a mask in workgroup memory (an integer atomicOr: the mask, not an order, is what comes
//   out). Every invocation then walks the mask's bits in increasing order and adds the hit rows
//   into the columns d = lid, lid + WG, ... of the VB accumulator rows it alone owns. So the sum
//   order is the token order, whatever the schedule: the same bits on every run. The masks rotate
//   through three buffers, so one barrier per WG tokens separates marking, reading and clearing.
//   Cost: every workgroup reads all N tokens, V / VB · N tests in all; the launcher raises VB
//   (batching vocabulary rows) where V is large.
// embed_pos_clear: dW_pos[t, :] = 0 for T <= t < C. The positions t < T get Σ_b dresid[b, t, :]
//   from reduce.wgsl's sum_rows, dresid read as B rows of T·D.
//
// Members (G > 1, models trained together): the N tokens are G members' N / G each, and member g
// reads and writes its weights PS elements after member g - 1's; embed_backward runs NG
// workgroups per member, each over its member's tokens only.
//
// Out-of-range token ids (< 0 or >= V) are never read or written through: they embed as zeros
// (resid = W_pos[t]) and their gradient goes nowhere.

const N: u32 = {{N}}u;
const T: u32 = {{T}}u;
const C: u32 = {{C}}u;
const V: u32 = {{V}}u;
const D: u32 = {{D}}u;
const VB: u32 = {{VB}}u;                  // vocabulary rows per embed_backward workgroup
const V0: i32 = {{V0}};                   // embed_forward: the first row W_E holds
const ACC: bool = {{ACC}};                // embed_forward: add to resid rather than write it
const WITH_POS: bool = {{WITH_POS}};      // embed_forward adds W_pos (unless ACC)
const G: u32 = {{G}}u;                    // members
const PS: u32 = {{PS}}u;                  // a member's weights' stride
const NM: u32 = N / G;                    // a member's tokens
const NG: u32 = (V + VB - 1u) / VB;       // embed_backward workgroups
const WG: u32 = 256u;
const WORDS: u32 = WG / 32u;              // mask words per WG tokens

// embed_forward
@group(0) @binding(0) var<storage, read> tokens: array<i32>;        // [B, T]
@group(0) @binding(1) var<storage, read> W_E: array<f32>;           // [V, D]
@group(0) @binding(2) var<storage, read> W_pos: array<f32>;         // [C, D]
@group(0) @binding(3) var<storage, read_write> resid: array<f32>;   // [B, T, D]

// embed_backward (tokens as above)
@group(0) @binding(1) var<storage, read> dresid: array<f32>;        // [B, T, D]
@group(0) @binding(2) var<storage, read_write> dW_E: array<f32>;    // [V, D]

// embed_pos_clear
@group(0) @binding(0) var<storage, read_write> dW_pos: array<f32>;  // [C, D]

var<workgroup> acc: array<f32, VB * D>;        // [VB, D]
var<workgroup> hits: array<atomic<u32>, 3u * WORDS>; // [3, WORDS]: bit i of word w = token w·32 + i

fn in_vocab(tok: i32) -> bool {
  return tok >= 0 && tok < i32(V);
}

@compute @workgroup_size(WG)
fn embed_forward(@builtin(global_invocation_id) gid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N * D) { return; }
  let n = i / D;
  let d = i % D;
  let tok = tokens[n] - V0;
  let w = (n / NM) * PS; // the member's weights
  var e = 0.0;
  if (in_vocab(tok)) { e = W_E[w + u32(tok) * D + d]; }
  if (ACC) {
    e += resid[i];
  } else if (WITH_POS) {
    e += W_pos[w + (n % T) * D + d];
  }
  resid[i] = e;
}

@compute @workgroup_size(WG)
fn embed_backward(@builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let gg = wid.x + wid.y * nwg.x;
  if (gg >= G * NG) { return; }
  let first = (gg / NG) * NM; // the member's first token
  let base = (gg / NG) * PS;  // and its weights
  let v0 = (gg % NG) * VB;
  for (var r = 0u; r < VB; r++) {
    for (var d = lid; d < D; d += WG) { acc[r * D + d] = 0.0; }
  }
  if (lid < 3u * WORDS) { atomicStore(&hits[lid], 0u); }
  workgroupBarrier();
  var cur = 0u;
  for (var c = first; c < first + NM; c += WG) {
    // Mark this chunk's hits in mask `cur`, and clear the mask the next chunk will mark (last read
    // two chunks ago, before the previous barrier).
    let next = (cur + 1u) % 3u;
    if (lid < WORDS) { atomicStore(&hits[next * WORDS + lid], 0u); }
    let n = c + lid;
    if (n < first + NM) {
      let tok = tokens[n];
      if (in_vocab(tok) && u32(tok) - v0 < VB) {
        atomicOr(&hits[cur * WORDS + lid / 32u], 1u << (lid % 32u));
      }
    }
    workgroupBarrier();
    for (var w = 0u; w < WORDS; w++) {
      var left = atomicLoad(&hits[cur * WORDS + w]);
      while (left != 0u) {
        let m = c + w * 32u + firstTrailingBit(left);
        left &= left - 1u;
        let row = (u32(tokens[m]) - v0) * D;
        for (var d = lid; d < D; d += WG) { acc[row + d] += dresid[m * D + d]; }
      }
    }
    cur = next;
  }
  for (var r = 0u; r < VB; r++) {
    let v = v0 + r;
    if (v < V) {
      for (var d = lid; d < D; d += WG) { dW_E[base + v * D + d] = acc[r * D + d]; }
    }
  }
}

@compute @workgroup_size(WG)
fn embed_pos_clear(@builtin(global_invocation_id) gid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= (C - T) * D) { return; }
  dW_pos[T * D + i] = 0.0;
}
