// Elementwise addition with broadcasting over leading dimensions: the bias add and the residual add.
// N = elements of `a` and `out`; B = elements of `b`, a suffix of a's shape (B = N: same shape;
// B = C: a bias over the last dimension of [R, C]).
//
// Backward: out = a + b passes its gradient unchanged to `a`, and to `b` summed over the broadcast
// rows (reduce.wgsl's sum_rows). Where two gradient paths meet, add_inplace accumulates them: WebGPU
// forbids binding one buffer as both read and read_write, so in-place addition is its own entry
// point, with its own bindings (an entry point's bindings are those it uses). `fill` sets every
// element to zero: a gradient that only some rows receive starts from it, inside the step's pass.

const N: u32 = {{N}}u;
const B: u32 = {{B}}u;
const G: u32 = {{G}}u;   // add_inplace: x is G members' N / G elements, each with its own b,
const BS: u32 = {{BS}}u; // member g's BS elements after member g - 1's (G = 1: one b)
const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> a: array<f32>;        // [N]
@group(0) @binding(1) var<storage, read> b: array<f32>;        // [B], broadcast over N / B rows
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [N]

@compute @workgroup_size(WG)
fn add_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N) { return; }
  out[i] = a[i] + b[i % B];
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>; // [N]: x += b

@compute @workgroup_size(WG)
fn add_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N) { return; }
  x[i] = x[i] + b[(i / (N / G)) * BS + i % B];
}

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= N) { return; }
  x[i] = 0.0;
}
