// Edits of one hook's activation between the forward pass' dispatches: TransformerLens'
// run_with_hooks for the interventions written as data (engine/hooks/). The activation is read as
// out [B, X, Y, C]: [batch, pos, head, d_head] as it is, [batch, pos, d_model] as [B, T, 1, D].
// An edit touches the block rows [r0, r1) × x [x0, x1) × y [y0, y1) × every c, given with its
// scale in `params`, so one pipeline per hook shape serves every edit of a sweep:
//
//   hook_patch_forward: out[r, i, j, c] = scale · src[rowmap[r − r0], i, j, c]   (patch, mean, resample, copy)
//   hook_add_forward:   out[r, i, j, c] += scale · direction[c]                       (steering)
//   hook_zero_forward:  out[r, i, j, c] = 0                                      (ablation)
//
// No backward: edits run in analyses, never in training. Reference: engine/reference/hook_edit.ts.

const X: u32 = {{X}}u;
const Y: u32 = {{Y}}u;
const C: u32 = {{C}}u;
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // [B, X, Y, C]
@group(0) @binding(1) var<storage, read> params: array<u32>;    // [r0, r1, x0, x1, y0, y1, bits of scale, 0]
@group(0) @binding(2) var<storage, read> rowmap: array<i32>;    // [r1 − r0]: the source row of each edited row
@group(0) @binding(3) var<storage, read> src: array<f32>;       // [S, X, Y, C]

// direction shares binding 2 with rowmap: only hook_add_forward binds it, and it binds no rowmap
// (kernels/README.md: an entry point binds only what it uses).
@group(0) @binding(2) var<storage, read> direction: array<f32>; // [C]

/** Where the edited element `i` of the region lies: its row offset from r0, then out's flat index
 *  and the flat index of [0, x, y, c] (add a row's X·Y·C to reach a row of src). */
struct Site { row: u32, at: u32, inner: u32 }

fn site_of(i: u32) -> Site {
  let nx = params[3] - params[2];
  let ny = params[5] - params[4];
  let c = i % C;
  let line = i / C;
  let y = params[4] + line % ny;
  let x = params[2] + (line / ny) % nx;
  let row = line / (ny * nx);
  let inner = (x * Y + y) * C + c;
  return Site(row, (params[0] + row) * X * Y * C + inner, inner);
}

/** The number of elements the region holds: invocations past it return. */
fn count() -> u32 {
  return (params[1] - params[0]) * (params[3] - params[2]) * (params[5] - params[4]) * C;
}

@compute @workgroup_size(WG)
fn hook_patch_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= count()) { return; }
  let s = site_of(i);
  out[s.at] = bitcast<f32>(params[6]) * src[u32(rowmap[s.row]) * X * Y * C + s.inner];
}

@compute @workgroup_size(WG)
fn hook_add_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= count()) { return; }
  let s = site_of(i);
  out[s.at] = out[s.at] + bitcast<f32>(params[6]) * direction[i % C];
}

@compute @workgroup_size(WG)
fn hook_zero_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= count()) { return; }
  out[site_of(i).at] = 0.0;
}
