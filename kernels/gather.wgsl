// Minibatch gather: the rows of one training step, picked from every example by an index table
// whose slot is AdamW's step counter, so many steps run in one submit, each on its own batch.
//
// Letters: N examples, T tokens per example, W targets per example (1: the last position's
// answer, or T), S steps in the table, B rows per batch.
// Step t (AdamW's counter before its update, word 0 of `state`) uses slot t mod S.
// There is no backward: the examples are data.

const N: u32 = {{N}}u;
const T: u32 = {{T}}u;
const W: u32 = {{W}}u;
const S: u32 = {{S}}u;
const B: u32 = {{B}}u;
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> all_tokens: array<i32>;         // [N, T]
@group(0) @binding(1) var<storage, read> all_targets: array<i32>;        // [N, W]
@group(0) @binding(2) var<storage, read> rows: array<i32>;               // [S, B] example indices
@group(0) @binding(3) var<storage, read> row_weights: array<f32>;        // [S, B] loss weights
@group(0) @binding(4) var<storage, read> state: array<u32>;              // AdamW's state; [0] = t
@group(0) @binding(5) var<storage, read_write> tokens: array<i32>;       // [B, T]
@group(0) @binding(6) var<storage, read_write> targets: array<i32>;      // [B·W]
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;      // [B]

@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = gid.x + gid.y * nwg.x * WG;
  if (b >= B) { return; }
  let slot = (state[0] % S) * B + b;
  let n = min(u32(max(rows[slot], 0)), N - 1u); // the launcher checks the table; this keeps reads in bounds
  for (var j = 0u; j < T; j++) { tokens[b * T + j] = all_tokens[n * T + j]; }
  for (var j = 0u; j < W; j++) { targets[b * W + j] = all_targets[n * W + j]; }
  weights[b] = row_weights[slot];
}
