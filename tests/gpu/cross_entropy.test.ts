// cross_entropy.wgsl against engine/reference/cross_entropy.ts, and the reference against finite
// differences and hand-worked values, on shapes off every workgroup size.
import * as assert from "node:assert/strict";
import { releaseDispatches } from "../../engine/gpu/mod.ts";
import {
  accuracy,
  crossEntropy,
  crossEntropyEval as refEval,
  segmentSums as refSegmentSums,
} from "../../engine/reference/cross_entropy.ts";
import { Rng, Tensor, tensor } from "../../engine/tensor/mod.ts";
import { crossEntropyEval, crossEntropyForward, segmentSums } from "../../kernels/cross_entropy.ts";
import { assertClose, numericGrad } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** Random f32-representable logits (what the GPU sees), a few rows shifted far off zero. */
function logitsOf(R: number, V: number, rng: Rng, scale = 3): Tensor {
  const x = randomTensor([R, V], rng, scale);
  const data = x.data as Float64Array;
  for (let r = 2; r < R; r += 3) {
    for (let v = 0; v < V; v++) data[r * V + v]! += 1000 * (r % 2 ? 1 : -1);
  }
  return new Tensor(data.map(Math.fround), [R, V]);
}

function targetsOf(R: number, V: number, rng: Rng): Tensor {
  return tensor(Array.from({ length: R }, () => rng.int(V)), [R], "i32");
}

Deno.test("crossEntropy: hand-worked loss and gradient", () => {
  // softmax of [0, ln 2, ln 3] is [1/6, 2/6, 3/6]; target 2: loss = ln 6 - ln 3 = ln 2.
  const logits = tensor([0, Math.log(2), Math.log(3), 5, 5, 5], [2, 3]);
  const targets = tensor([2, 0], [2], "i32");
  const { loss, dlogits } = crossEntropy(logits, targets, tensor([1, 0.5]));
  assertClose(loss, tensor([Math.LN2, Math.log(3)]), 1e-15, "loss");
  assertClose(
    dlogits,
    tensor([1 / 6, 2 / 6, 3 / 6 - 1, 0.5 * (1 / 3 - 1), 0.5 / 3, 0.5 / 3], [2, 3]),
    1e-15,
    "dlogits",
  );
  // Large logits do not overflow: shifting a row changes nothing.
  const far = crossEntropy(
    tensor([1000, 1000 + Math.log(2), 1000 + Math.log(3)], [1, 3]),
    tensor([2], [1], "i32"),
  );
  assertClose(far.loss, tensor([Math.LN2]), 1e-12, "shifted loss");
  // The default weights are 1/R, and an out-of-range target ignores its row.
  const ignored = crossEntropy(logits, tensor([-1, 3], [2], "i32"));
  assert.deepEqual([...ignored.loss.data, ...ignored.dlogits.data], new Array(8).fill(0));
  const mean = crossEntropy(logits, targets);
  assertClose(
    mean.dlogits.reshape([6]).data.slice(0, 3),
    [1 / 12, 2 / 12, 3 / 12 - 0.5],
    1e-15,
    "mean",
  );
});

Deno.test("crossEntropy: dlogits is the gradient of Σ w·loss (central differences)", () => {
  const rng = new Rng(3);
  const [R, V] = [4, 7];
  const x = randomTensor([R, V], rng, 2);
  const targets = tensor([0, 6, 3, -1], [R], "i32");
  const weights = tensor([0.25, 0.5, 1.5, 1]);
  const total = (flat: Float64Array) => {
    const { loss } = crossEntropy(new Tensor(flat, [R, V]), targets, weights);
    let sum = 0;
    for (let r = 0; r < R; r++) sum += weights.data[r]! * loss.data[r]!;
    return sum;
  };
  const numeric = numericGrad(total, Float64Array.from(x.data));
  const { dlogits } = crossEntropy(x, targets, weights);
  // Central differences at eps 1e-6 in f64: truncation ~1e-12, cancellation ~1e-10.
  assertClose(dlogits.data, numeric, 1e-6 * Math.max(...numeric.map(Math.abs)), "dlogits");
});

Deno.test("crossEntropyEval, accuracy, segmentSums: ties to the lowest index, hand-worked", () => {
  const logits = tensor([1, 3, 3, 0, 0, 5, 2, 2, 2], [3, 3]);
  const { loss, correct } = refEval(logits, tensor([2, 2, 0], [3], "i32"));
  assert.deepEqual([...correct.data], [0, 1, 1]);
  assertClose(loss.data.slice(2), [Math.log(3)], 1e-15, "uniform row loss");
  assert.equal(accuracy(logits, tensor([1, 2, 1], [3], "i32")), 2 / 3);
  const sums = refSegmentSums(tensor([1, 2, 3, 4]), tensor([1, 0, 0, 1]), [0, 1, 1, 4]);
  assert.deepEqual(sums.toNested(), [[1, 1], [0, 0], [9, 1]]);
});

// f32 against f64 on the same f32 inputs. loss = (max - x_t) + log Σ: max - x_t is exact, log Σ
// carries a few ulp of exp/log per term (Vulkan allows exp 3 + 2|x| ulp): ~1e-6 for Σ up to V·1.
// dlogits = w·(p - onehot) with |w| <= 1.5 and p off by a few ulp relative plus the rounding of 1/Σ.
const LOSS_TOL = 1e-5;
const GRAD_TOL = 1e-6;

gpuTest(
  "cross_entropy_forward / _eval: against the f64 reference, off every workgroup size",
  async (gpu) => {
    const rng = new Rng(21);
    for (const [R, V] of [[1, 2], [3, 7], [17, 113], [5, 130], [7, 1033], [2, 5003]] as const) {
      const logits = logitsOf(R, V, rng);
      const targets = targetsOf(R, V, rng);
      if (R > 3) (targets.data as Int32Array)[1] = -1; // an ignored row
      if (R > 4) (targets.data as Int32Array)[3] = V; // and one just out of range
      const weights = tensor(Array.from({ length: R }, (_, r) => (r + 1) / R));
      const want = crossEntropy(logits, targets, weights);
      const wantEval = refEval(logits, targets);
      const [gl, gt, gw] = [gpu.upload(logits), gpu.upload(targets), gpu.upload(weights)];
      const [loss, dlogits, eLoss, correct] = [
        gpu.empty([R]),
        gpu.empty([R, V]),
        gpu.empty([R]),
        gpu.empty([R]),
      ];
      const ds = [
        ...await crossEntropyForward(gpu, { logits: gl, targets: gt, weights: gw }, {
          loss,
          dlogits,
        }),
        ...await crossEntropyEval(gpu, { logits: gl, targets: gt }, { loss: eLoss, correct }),
      ];
      gpu.run(ds);
      const [l, d, el, c] = await gpu.read([loss, dlogits, eLoss, correct]);
      expectClose(l!, want.loss, LOSS_TOL, `loss [${R},${V}]`);
      expectClose(d!, want.dlogits, GRAD_TOL, `dlogits [${R},${V}]`);
      expectClose(el!, wantEval.loss, LOSS_TOL, `eval loss [${R},${V}]`);
      assert.deepEqual([...c!.data], [...wantEval.correct.data], `correct [${R},${V}]`);
      const first = await bits(gpu, [loss, dlogits, eLoss, correct]);
      gpu.run(ds);
      assert.deepEqual(
        await bits(gpu, [loss, dlogits, eLoss, correct]),
        first,
        "same bits on a second run",
      );
      for (const t of [gl, gt, gw, loss, dlogits, eLoss, correct]) t.release();
    }
  },
);

gpuTest("cross_entropy_forward: one weight per example's T rows (P = T)", async (gpu) => {
  const rng = new Rng(22);
  const [B, T, V] = [3, 4, 9];
  const logits = logitsOf(B * T, V, rng);
  const targets = targetsOf(B * T, V, rng);
  (targets.data as Int32Array)[5] = -1; // an unscored position
  const perExample = [0.5, 0.125, 2];
  const want = crossEntropy(logits, targets, tensor(perExample.flatMap((w) => Array(T).fill(w))));
  const [gl, gt, gw] = [gpu.upload(logits), gpu.upload(targets), gpu.upload(tensor(perExample))];
  const [loss, dlogits] = [gpu.empty([B * T]), gpu.empty([B * T, V])];
  gpu.run(
    await crossEntropyForward(gpu, { logits: gl, targets: gt, weights: gw }, { loss, dlogits }),
  );
  const [l, d] = await gpu.read([loss, dlogits]);
  expectClose(l!, want.loss, LOSS_TOL, "loss");
  expectClose(d!, want.dlogits, GRAD_TOL, "dlogits");
  for (const t of [gl, gt, gw, loss, dlogits]) t.release();
});

gpuTest(
  "cross_entropy_eval: argmax ties go to the lowest index, -inf logits are fine",
  async (gpu) => {
    // V = 300 > one workgroup's stride: ties across invocations (0 and 256 share one).
    const V = 300;
    const rows: number[][] = [];
    const targets: number[] = [];
    for (
      const [a, b, t] of [[5, 256, 5], [5, 256, 256], [256, 299, 299], [0, 1, 0], [17, 273, 273]]
    ) {
      const row = new Array(V).fill(-1);
      row[a!] = 4;
      row[b!] = 4;
      rows.push(row);
      targets.push(t!);
    }
    const masked = new Array(V).fill(-Infinity);
    masked[7] = 0;
    masked[200] = 1;
    rows.push(masked);
    targets.push(200);
    const logits = tensor(rows.flat(), [rows.length, V]);
    const ts = tensor(targets, [targets.length], "i32");
    const want = refEval(logits, ts);
    assert.deepEqual([...want.correct.data], [1, 0, 0, 1, 0, 1]);
    const [gl, gt, loss, correct] = [
      gpu.upload(logits),
      gpu.upload(ts),
      gpu.empty([6]),
      gpu.empty([6]),
    ];
    gpu.run(await crossEntropyEval(gpu, { logits: gl, targets: gt }, { loss, correct }));
    const [l, c] = await gpu.read([loss, correct]);
    assert.deepEqual([...c!.data], [...want.correct.data]);
    expectClose(l!, want.loss, LOSS_TOL, "tied and masked loss");
    for (const t of [gl, gt, loss, correct]) t.release();
  },
);

gpuTest("segment_sums: fixed-order sums per segment, against f64", async (gpu) => {
  const rng = new Rng(22);
  for (const bounds of [[0, 1], [0, 3, 3, 7], [2, 130, 1000, 1033]]) {
    const R = bounds[bounds.length - 1]!;
    const loss = new Tensor(randomTensor([R], rng).data.map((x) => Math.fround(Math.abs(x))), [R]);
    const correct = tensor(Array.from({ length: R }, () => (rng.uniform() < 0.5 ? 1 : 0)));
    const [gl, gc, out] = [
      gpu.upload(loss),
      gpu.upload(correct),
      gpu.empty([bounds.length - 1, 2]),
    ];
    const ds = await segmentSums(gpu, { loss: gl, correct: gc }, out, bounds);
    gpu.run(ds);
    const [got] = await gpu.read([out]);
    // f32 sums of up to 870 values |N(0,1)| (totals up to ~700, ulp 6e-5): strided runs of <= 4
    // then an 8-level tree, a few roundings deep, so an error of about an ulp of the total;
    // the correct counts are small integers, exact in f32.
    expectClose(got!, refSegmentSums(loss, correct, bounds), 1e-4, `segment sums [${bounds}]`);
    const first = await bits(gpu, [out]);
    gpu.run(ds);
    assert.deepEqual(await bits(gpu, [out]), first, "same bits on a second run");
    releaseDispatches(ds);
    for (const t of [gl, gc, out]) t.release();
  }
});

gpuTest("cross_entropy: wrong shapes, dtypes and bounds are refused", async (gpu) => {
  const logits = gpu.empty([3, 5]);
  const targets = gpu.empty([3], "i32");
  const weights = gpu.empty([3]);
  const loss = gpu.empty([3]);
  const dlogits = gpu.empty([3, 4]);
  const floatTargets = gpu.empty([3]);
  const out = gpu.empty([2, 2]);
  await assert.rejects(
    crossEntropyForward(gpu, { logits, targets, weights }, { loss, dlogits }),
    /cross_entropy_forward: dlogits has shape \[3,4\], expected \[3,5\]/,
  );
  await assert.rejects(
    crossEntropyEval(gpu, { logits, targets: floatTargets }, { loss, correct: loss }),
    /cross_entropy_eval: targets has dtype f32, expected i32/,
  );
  await assert.rejects(
    segmentSums(gpu, { loss, correct: weights }, out, [0, 2, 1]),
    /segment_sums: bounds \[0,2,1\] are not non-decreasing/,
  );
  await assert.rejects(
    segmentSums(gpu, { loss, correct: weights }, out, [0, 1, 2, 3]),
    /segment_sums: out has shape \[2,2\], expected \[3,2\]/,
  );
  for (const t of [logits, targets, weights, loss, dlogits, floatTargets, out]) t.release();
});

gpuTest(
  "cross_entropy_eval: a row whose max is -inf or the lowest float still has an argmax",
  async (gpu) => {
    // V = 3 < WG: most invocations see no logit and must not take part in the argmax.
    const lowest = -3.4028234663852886e38;
    const logits = tensor([-Infinity, -Infinity, -Infinity, lowest, lowest, -Infinity], [2, 3]);
    const ts = tensor([0, 0], [2], "i32");
    assert.deepEqual([...refEval(logits, ts).correct.data], [1, 1]); // torch.argmax: index 0
    const [gl, gt, loss, correct] = [
      gpu.upload(logits),
      gpu.upload(ts),
      gpu.empty([2]),
      gpu.empty([2]),
    ];
    gpu.run(await crossEntropyEval(gpu, { logits: gl, targets: gt }, { loss, correct }));
    const [l, c] = await gpu.read([loss, correct]);
    assert.deepEqual([...c!.data], [1, 1]);
    assert.ok(
      Math.abs(l!.data[1]! - Math.LN2) < 1e-6,
      `two lowest-float maxima: loss ln 2, got ${l!.data[1]}`,
    );
    for (const t of [gl, gt, loss, correct]) t.release();
  },
);
