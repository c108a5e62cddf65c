// activation.wgsl (relu, gelu, gelu_new) against the float64 reference, and the reference's erf and
// backward against known values and finite differences.
import * as assert from "node:assert/strict";
import { Rng, Tensor, tensor } from "../../engine/tensor/mod.ts";
import {
  activate,
  activateGrad,
  type Activation,
  activationBackward as refBackward,
  activationForward as refForward,
  ACTIVATIONS,
  erf,
  erfc,
} from "../../engine/reference/activation.ts";
import { activationBackward, activationForward } from "../../kernels/activation.ts";
import { assertClose, numericGrad } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** The tensor rounded to f32 and held in f64: exactly what the GPU sees after upload. */
function roundToF32(t: Tensor): Tensor {
  return new Tensor(Float64Array.from(Float32Array.from(t.data)), t.shape);
}

/** `t / max(1, |x|)` elementwise: an absolute tolerance on it is relative for large |x|. */
function perUnitX(t: Tensor, x: Tensor): Tensor {
  return new Tensor(t.data.map((v, i) => v / Math.max(1, Math.abs(x.data[i]!))), t.shape);
}

Deno.test("erf and erfc: known values to 1e-15", () => {
  // Values from mpmath at 30 digits.
  const known: [number, number][] = [
    [0, 0],
    [0.25, 0.27632639016823693],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.5, 0.9995930479825550],
    [3, 0.9999779095030014],
  ];
  for (const [x, value] of known) {
    assertClose([erf(x)], [value], 1e-15, `erf(${x})`);
    assertClose([erf(-x)], [-value], 1e-15, `erf(${-x})`);
    assertClose([erfc(x)], [1 - value], 1e-15, `erfc(${x})`);
  }
  // The upper tail, relative to its value: 1 - erf(x) would have no digits left here.
  const tails: [number, number][] = [
    [3, 2.2090496998585441e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.0884875837625448e-45],
  ];
  for (const [x, value] of tails) {
    assertClose([erfc(x) / value], [1], 1e-14, `erfc(${x}) relative`);
    assertClose([erfc(-x)], [2 - value], 1e-15, `erfc(${-x})`);
  }
  assert.equal(erf(Infinity), 1);
  assert.equal(erf(-Infinity), -1);
  assert.equal(erfc(40), 0);
  assert.ok(Number.isNaN(erf(NaN)));
  // The series (below 2.5) and the continued fraction (from 2.5) meet without a step.
  const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-6.25);
  assertClose([erf(2.5 - 1e-9) + 1e-9 * slope], [erf(2.5)], 1e-15, "erf continuous at 2.5");
});

Deno.test("activation reference forward: hand-worked values and the erf form of gelu", () => {
  const x = tensor([-2, -1, 0, 0.5, 1, 3], [6]);
  assert.deepEqual([...refForward(x, { act: "relu" }).data], [0, 0, 0, 0.5, 1, 3]);
  // gelu(x) = x·Φ(x); Φ(1) = 0.841344746068542948…, Φ(-2) = 0.022750131948179208…
  assertClose([activate(1, "gelu")], [0.8413447460685429], 1e-15, "gelu(1)");
  assertClose([activate(-2, "gelu")], [-2 * 0.022750131948179208], 1e-15, "gelu(-2)");
  // gelu_new(1) = 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.841191990608276704… (mpmath)
  assertClose([activate(1, "gelu_new")], [0.8411919906082767], 1e-15, "gelu_new(1)");
  // The reference's gelu goes through erfc in the tails; the textbook form agrees in the middle.
  const gelu = refForward(x, { act: "gelu" });
  const textbook = x.data.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
  assertClose(gelu, textbook, 1e-15, "gelu against 0.5·x·(1 + erf(x/√2))");
  // Saturation: no NaN for large |x|.
  for (const act of ACTIVATIONS) {
    for (const v of [50, 1e4, 1e200]) {
      assert.equal(activate(v, act), v, `${act}(${v})`);
      assert.equal(Math.abs(activate(-v, act)), 0, `${act}(${-v})`);
      assert.equal(activateGrad(v, act), 1, `${act}'(${v})`);
      assert.equal(activateGrad(-v, act), 0, `${act}'(${-v})`);
    }
  }
  assert.equal(activateGrad(0, "relu"), 0, "relu'(0) is 0, as PyTorch's");
});

Deno.test("activation reference backward: matches central differences", () => {
  const rng = new Rng(21);
  // Away from ReLU's kink at 0, where a difference quotient is not its derivative.
  const x = randomTensor([40], rng, 2).data.map((v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
  x[0] = 6.5; // tails too
  x[1] = -7.25;
  const pre = new Tensor(x, [40]);
  const dpost = randomTensor([40], rng);
  for (const act of ACTIVATIONS) {
    const loss = (v: Float64Array) => {
      let total = 0;
      for (let i = 0; i < v.length; i++) total += activate(v[i]!, act) * dpost.data[i]!;
      return total;
    };
    const numeric = numericGrad(loss, Float64Array.from(x));
    const analytic = refBackward(pre, dpost, { act });
    // Central differences with step 1e-6 are good to about 1e-9 here.
    assertClose(analytic, numeric, 1e-8, `${act} backward`);
  }
});

Deno.test("activation reference backward: dpost of the wrong shape is refused", () => {
  assert.throws(
    () => refBackward(tensor([1, 2, 3], [3]), tensor([1, 2], [2]), { act: "gelu" }),
    /activation_backward: dpost has shape \[2\], expected \[3\]/,
  );
});

/** Random and awkward inputs: saturating, tiny, exactly 0, and a dense sweep over erf's range. */
function inputs(n: number, rng: Rng): Tensor {
  const special = [0, -0, 1e-30, -1e-30, 1e-3, -1e-3, 50, -50, 1e4, -1e4, 1e20, -1e20, 5.7, -5.7];
  const sweep = Array.from({ length: 600 }, (_, i) => -15 + (30 * i) / 599);
  const values = randomTensor([n], rng, 3).toArray();
  const extra = [...special, ...sweep];
  for (let i = 0; i < Math.min(n, extra.length); i++) values[(i * 7) % n] = extra[i]!;
  return roundToF32(new Tensor(values, [n]));
}

gpuTest(
  "activation_forward / activation_backward: relu, gelu, gelu_new against float64",
  async (gpu) => {
    const rng = new Rng(22);
    // Tolerances on (GPU − reference) / max(1, |x|), inputs exact in f32. Forward: Φ is within
    // 6.5e-8 (activation.wgsl's fit), x·Φ rounds once more (6e-8) and a = x/√2 rounds (≤ 1.5e-8
    // on Φ): about 1.4e-7 with a correctly rounded exp; tanh from exp(−2|u|) is within a few 6e-8
    // too; 3e-7 leaves room for a driver's exp. Backward: act'(x) adds x·φ(x) (≤ 0.25, a few
    // ulps) or sech² through a rounded u, then one product with |dpost| ≤ ~4: 1e-6.
    for (const shape of [[1], [3], [7, 17], [33, 130]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = inputs(n, rng).reshape(shape);
      const dpost = roundToF32(randomTensor(shape, rng));
      const [gx, gdpost, gpost, gdpre] = [
        gpu.upload(x),
        gpu.upload(dpost),
        gpu.empty(shape),
        gpu.empty(shape),
      ];
      for (const act of ACTIVATIONS) {
        const dispatches = [
          ...await activationForward(gpu, gx, gpost, { act }),
          ...await activationBackward(gpu, gx, gdpost, gdpre, { act }),
        ];
        gpu.run(dispatches);
        const [post, dpre] = await gpu.read([gpost, gdpre]);
        for (const t of [post!, dpre!]) {
          assert.ok(t.data.every(Number.isFinite), `${act} [${shape}]: every output is finite`);
        }
        const wantPost = refForward(x, { act });
        const wantDpre = refBackward(x, dpost, { act });
        expectClose(
          perUnitX(post!, x),
          perUnitX(wantPost, x),
          3e-7,
          `${act} post/max(1,|x|) [${shape}]`,
        );
        expectClose(
          perUnitX(dpre!, x),
          perUnitX(wantDpre, x),
          1e-6,
          `${act} dpre/max(1,|x|) [${shape}]`,
        );
        const first = await bits(gpu, [gpost, gdpre]);
        gpu.run(dispatches);
        assert.deepEqual(await bits(gpu, [gpost, gdpre]), first, `${act}: bitwise the same again`);
      }
      for (const t of [gx, gdpost, gpost, gdpre]) t.release();
    }
  },
);

gpuTest("activation: saturating inputs give exact 0, x, 0 and 1, and no NaN", async (gpu) => {
  const x = new Float32Array([50, -50, 1e4, -1e4, 1e20, -1e20, 3e38, -3e38]);
  const gx = gpu.upload(x);
  const ones = gpu.upload(new Float32Array(x.length).fill(1));
  const [post, dpre] = [gpu.empty([x.length]), gpu.empty([x.length])];
  for (const act of ACTIVATIONS) {
    gpu.run([
      ...await activationForward(gpu, gx, post, { act }),
      ...await activationBackward(gpu, gx, ones, dpre, { act }),
    ]);
    const [p, d] = await gpu.read([post, dpre]);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      assert.equal(p!.data[i]! + 0, v > 0 ? v : 0, `${act}(${v})`); // -0 + 0 is 0
      assert.equal(d!.data[i], v > 0 ? 1 : 0, `${act}'(${v})`);
    }
  }
  for (const t of [gx, ones, post, dpre]) t.release();
});

gpuTest("activation: wrong shapes and unknown activations are refused", async (gpu) => {
  const a = gpu.empty([3, 4]);
  const b = gpu.empty([12]);
  await assert.rejects(
    activationForward(gpu, a, b, { act: "relu" }),
    /activation_forward: post has shape \[12\], expected \[3,4\]/,
  );
  await assert.rejects(
    activationBackward(gpu, a, a, b, { act: "gelu" }),
    /activation_backward: dpre has shape \[12\], expected \[3,4\]/,
  );
  await assert.rejects(
    activationForward(gpu, a, a, { act: "swish" as Activation }),
    /activation_forward: unknown activation "swish"/,
  );
  a.release();
  b.release();
});
