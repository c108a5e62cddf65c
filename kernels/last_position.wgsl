// Each example's last position: the rows a one-answer task scores (`x[:, -1, :]`). The forward
// copies position T - 1 of every example into a compact [B, C]; the backward writes a compact
// gradient back to those rows and 0 to every other position, which gets no gradient from a model
// whose later layers run on the last position alone (`engine/model/gpu/block.ts`, `lossOnly`).
//
// Letters: B examples, T positions, C columns.

const B: u32 = {{B}}u;
const T: u32 = {{T}}u;
const C: u32 = {{C}}u;
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;        // [B, T, C]
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // [B, C]

@compute @workgroup_size(WG)
fn last_position_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= B * C) { return; }
  y[i] = x[((i / C) * T + T - 1u) * C + i % C];
}

@group(0) @binding(0) var<storage, read> dy: array<f32>;        // [B, C]
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;  // [B, T, C]

@compute @workgroup_size(WG)
fn last_position_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= B * T * C) { return; }
  let row = i / C; // b·T + t
  dx[i] = select(0.0, dy[(row / T) * C + i % C], row % T == T - 1u);
}
