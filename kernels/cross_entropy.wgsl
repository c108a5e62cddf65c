// Cross-entropy of logits against target ids, fused with its gradient; the accuracy of the same
// logits; and the per-segment sums of both that a training loop reads back in one tiny read.
// Shape letters: R scored rows, V vocabulary (d_vocab_out), G segments of contiguous rows.
//
// cross_entropy_forward (training), a workgroup per row r, t = targets[r], w = weights[r / P]:
//   loss[r]       = logsumexp(logits[r, :]) - logits[r, t]              (natural log, unweighted)
//   dlogits[r, v] = w * (softmax(logits[r, :])[v] - (v == t))
// so dlogits is the gradient of Σ_r w · loss[r] (w = 1/R for a plain mean). P rows share a weight:
// 1 when each row is an example's one scored position, T when the rows are every position of an
// example and the weight is the example's.
// cross_entropy_eval (no gradient), a workgroup per row:
//   loss[r] as above; correct[r] = 1.0 where argmax(logits[r, :]) == t (ties go to the lowest
//   index, as torch.argmax), else 0.0.
// segment_sums, a workgroup per segment g of rows BOUNDS[g] <= r < BOUNDS[g + 1]:
//   sums[g, 0] = Σ loss[r], sums[g, 1] = Σ correct[r]. The bounds are constants of the shader,
//   meant for a handful of segments (train / test / groups), read back in one tiny read.
//
// One read of the row gives its statistics: invocation i walks v = i, i + WG, ... in order keeping
// an online (max, Σ exp(x - max), index of the first max), then a fixed tree in workgroup memory
// merges the WG partials. Every exponent is of x - max <= 0, so nothing overflows for large |x|, and
// the loss is (max - x_t) + log(Σ), whose first term is exact for nearby values. A second read
// writes dlogits. The order of every sum is fixed by WG alone: the same bits on every run.
// WG (a power of two, 32..256) is picked by the launcher from V: a few logits per invocation.
//
// A target outside [0, V) (e.g. -1 for an unscored row) is never read through: that row is ignored,
// loss[r] = 0, dlogits[r, :] = 0, correct[r] = 0. NaN logits give a NaN loss (argmax unspecified).

const R: u32 = {{R}}u;
const V: u32 = {{V}}u;
const P: u32 = {{P}}u; // rows per weight
const G: u32 = {{G}}u;
const BOUNDS = array<u32, {{G}} + 1>({{BOUNDS}}); // [G + 1]: segment g is rows BOUNDS[g]..BOUNDS[g+1]-1
const WG: u32 = {{WG}}u;
const NONE: u32 = 0xffffffffu; // the index of a partial that has seen no logit yet

// cross_entropy_forward
@group(0) @binding(0) var<storage, read> logits: array<f32>;         // [R, V]
@group(0) @binding(1) var<storage, read> targets: array<i32>;        // [R]
@group(0) @binding(2) var<storage, read> weights: array<f32>;        // [R / P]
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;     // [R]
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;  // [R, V]

// cross_entropy_eval (logits and targets as above)
@group(0) @binding(2) var<storage, read_write> eval_loss: array<f32>; // [R]
@group(0) @binding(3) var<storage, read_write> correct: array<f32>;   // [R]

// segment_sums
@group(0) @binding(0) var<storage, read> seg_loss: array<f32>;       // [R]
@group(0) @binding(1) var<storage, read> seg_correct: array<f32>;    // [R]
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;     // [G, 2]

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;
var<workgroup> warg: array<u32, WG>;

/** A row's running max, Σ exp(x - max), and the lowest index holding the max. */
struct Stats {
  m: f32,
  s: f32,
  i: u32,
}

/** exp(x - m) for x <= m, as 1 where x == m: -inf - -inf would make it NaN. */
fn rescale(x: f32, m: f32) -> f32 {
  return select(exp(x - m), 1.0, x == m);
}

fn merge(a: Stats, b: Stats) -> Stats {
  // A partial that saw no logit (V < WG) adds nothing; its m is not a value to compare.
  if (b.i == NONE) { return a; }
  if (a.i == NONE) { return b; }
  let m = max(a.m, b.m);
  let s = a.s * rescale(a.m, m) + b.s * rescale(b.m, m);
  var i = a.i;
  if (b.m > a.m || (b.m == a.m && b.i < a.i)) { i = b.i; }
  return Stats(m, s, i);
}

/** The statistics of row `r`, returned alike to every invocation of the workgroup. */
fn row_stats(r: u32, lid: u32) -> Stats {
  let base = r * V;
  var st = Stats(0.0, 0.0, NONE);
  for (var v = lid; v < V; v += WG) {
    let x = logits[base + v];
    // The first logit seeds the max, whatever it is (-inf and the lowest float included), so a
    // row's argmax is always one of its own indices.
    if (st.i == NONE) {
      st = Stats(x, 1.0, v);
    } else if (x > st.m) {
      st.s = st.s * exp(st.m - x) + 1.0;
      st.m = x;
      st.i = v;
    } else {
      st.s += rescale(x, st.m);
    }
  }
  wmax[lid] = st.m;
  wsum[lid] = st.s;
  warg[lid] = st.i;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let merged = merge(Stats(wmax[lid], wsum[lid], warg[lid]),
                         Stats(wmax[lid + half], wsum[lid + half], warg[lid + half]));
      wmax[lid] = merged.m;
      wsum[lid] = merged.s;
      warg[lid] = merged.i;
    }
    workgroupBarrier();
  }
  return Stats(wmax[0], wsum[0], warg[0]);
}

fn target_valid(t: i32) -> bool {
  return t >= 0 && t < i32(V);
}

@compute @workgroup_size(WG)
fn cross_entropy_forward(@builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= R) { return; }
  let st = row_stats(r, lid);
  let base = r * V;
  let valid = target_valid(targets[r]);
  let t = select(0u, u32(targets[r]), valid); // never read past the row
  if (lid == 0u) {
    loss[r] = select(0.0, (st.m - logits[base + t]) + log(st.s), valid);
  }
  let w = weights[r / P];
  let inv = 1.0 / st.s;
  for (var v = lid; v < V; v += WG) {
    let p = exp(logits[base + v] - st.m) * inv;
    let g = w * (p - select(0.0, 1.0, v == t));
    dlogits[base + v] = select(0.0, g, valid);
  }
}

@compute @workgroup_size(WG)
fn cross_entropy_eval(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= R) { return; }
  let st = row_stats(r, lid);
  if (lid == 0u) {
    let valid = target_valid(targets[r]);
    let t = select(0u, u32(targets[r]), valid);
    eval_loss[r] = select(0.0, (st.m - logits[r * V + t]) + log(st.s), valid);
    correct[r] = select(0.0, 1.0, valid && st.i == t);
  }
}

@compute @workgroup_size(WG)
fn segment_sums(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= G) { return; }
  let end = BOUNDS[g + 1u];
  var l = 0.0;
  var c = 0.0;
  for (var r = BOUNDS[g] + lid; r < end; r += WG) {
    l += seg_loss[r];
    c += seg_correct[r];
  }
  wmax[lid] = l;
  wsum[lid] = c;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      wmax[lid] += wmax[lid + half];
      wsum[lid] += wsum[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[2u * g] = wmax[0];
    sums[2u * g + 1u] = wsum[0];
  }
}
