// adamw.wgsl and engine/reference/adamw.ts against real torch.optim.AdamW + clip_grad_norm_ +
// LambdaLR (fixtures/make_adamw.py, float64), and the kernel against the reference on flat
// parameter vectors whose sizes are off every workgroup size, several updates per submit.
//
// The optimizer has no backward pass, so there is no finite-difference check here: the reference
// is held to PyTorch itself (the independent source) and to hand-worked updates.
import * as assert from "node:assert/strict";
import { releaseDispatches } from "../../engine/gpu/mod.ts";
import {
  type AdamWOptions,
  adamwStep,
  clipCoefficient,
  gradNorm,
  lrAt,
  resolveAdamWOptions,
} from "../../engine/reference/adamw.ts";
import { Rng, Tensor, tensor, zeros } from "../../engine/tensor/mod.ts";
import { adamw, ADAMW_STATE_SIZE, adamwBuffers, readAdamWState } from "../../kernels/adamw.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

interface FixtureStep {
  lr: number;
  norm?: number;
  clip?: number;
  params: FixtureArray;
  m: FixtureArray;
  v: FixtureArray;
}

interface FixtureCase {
  name: string;
  options: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    maxNorm: number | null;
    warmup: number;
    schedule: "constant" | "cosine";
    total?: number;
    minLr: number;
  };
  noDecay: [number, number][];
  params: FixtureArray;
  grads: FixtureArray[];
  /** Different gradients at each step (otherwise the same at every step). */
  varying: boolean;
  steps: FixtureStep[];
}

const fixture = await loadFixture<{ torch: string; cases: FixtureCase[] }>("adamw");

/** The fixture's settings as `AdamWOptions` (null maxNorm: no clipping). */
function optionsOf(c: FixtureCase): AdamWOptions {
  const { maxNorm, total, ...rest } = c.options;
  return {
    ...rest,
    ...(maxNorm === null ? {} : { maxNorm }),
    ...(total === undefined ? {} : { total }),
    noDecay: c.noDecay,
  };
}

function maxAbs(t: Tensor): number {
  let max = 0;
  for (const x of t.data) max = Math.max(max, Math.abs(x));
  return max;
}

/** The tensor rounded to f32 and back: exactly what the GPU is given. */
function roundF32(t: Tensor): Tensor {
  return new Tensor(Float64Array.from(Float32Array.from(t.data)), t.shape);
}

/** Relative closeness of scalars, for the state's lr, norm and clip. */
function closeScalar(actual: number, expected: number, rel: number, what: string): void {
  assertClose([actual], [expected], rel * Math.max(Math.abs(expected), 1e-30), what);
}

// ---- the float64 reference ------------------------------------------------------------------

Deno.test(`reference: torch ${fixture.torch} AdamW + clip_grad_norm_ + LambdaLR, float64`, () => {
  for (const c of fixture.cases) {
    const options = optionsOf(c);
    let params = fromFixture(c.params);
    let m = zeros(params.shape);
    let v = zeros(params.shape);
    let worst = 0;
    c.steps.forEach((expected, i) => {
      const t = i + 1;
      const out = adamwStep(params, fromFixture(c.grads[i]!), m, v, t, options);
      ({ params, m, v } = out);
      const what = `${c.name} step ${t}`;
      assertClose([out.lr], [expected.lr], 1e-15, `${what} lr`);
      assert.equal(lrAt(t, options), out.lr);
      if (expected.norm !== undefined) {
        closeScalar(out.norm, expected.norm, 1e-14, `${what} norm`);
        closeScalar(out.clip, expected.clip!, 1e-14, `${what} clip`);
      }
      for (const [name, got] of [["params", params], ["m", m], ["v", v]] as const) {
        const want = fromFixture(expected[name]);
        assertClose(got, want, 1e-12, `${what} ${name}`);
        for (let j = 0; j < got.size; j++) {
          worst = Math.max(worst, Math.abs(got.data[j]! - want.data[j]!));
        }
      }
    });
    console.log(`  ${c.name}: ${c.steps.length} steps, max |diff| ${worst.toExponential(2)}`);
  }
});

Deno.test("lrAt: warmup from 0 as LambdaLR gives it, then constant or cosine", () => {
  const warm = { lr: 1e-3, warmup: 10 };
  assert.equal(lrAt(1, warm), 0); // the first update has lr 0
  assertClose([lrAt(2, warm)], [1e-4], 1e-18, "t = 2");
  assertClose([lrAt(6, warm)], [5e-4], 1e-18, "t = 6");
  assert.equal(lrAt(11, warm), 1e-3);
  assert.equal(lrAt(1000, warm), 1e-3);
  assert.equal(lrAt(1, { lr: 0.5 }), 0.5); // W = 0: factor 1 from the start
  const cos = { lr: 1, warmup: 4, schedule: "cosine", total: 12, minLr: 0.1 } as const;
  assert.equal(lrAt(5, cos), 1); // s = W: the top of the cosine
  assertClose([lrAt(9, cos)], [0.55], 1e-15, "halfway: (lr + minLr) / 2");
  assertClose([lrAt(7, cos)], [0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2)], 1e-15, "a quarter");
  assertClose([lrAt(13, cos)], [0.1], 1e-15, "s = total: minLr");
  assert.equal(lrAt(100, cos), 0.1); // flat after
  assert.throws(() => lrAt(0, warm), /update number 0/);
});

Deno.test("adamwStep: hand-worked updates, clipping and decay exemption", () => {
  // With the same gradient twice, the bias-corrected moments are g and g² exactly, so each update
  // is p · (1 - lr·wd) - lr · g / (|g| + eps).
  const g = [0.5, -0.25];
  const o = { lr: 0.1, weightDecay: 0.5, eps: 1e-8 };
  const expected = (p: number[]) =>
    p.map((x, i) => x * 0.95 - 0.1 * g[i]! / (Math.abs(g[i]!) + 1e-8));
  const one = adamwStep(tensor([1, -2]), tensor(g), zeros([2]), zeros([2]), 1, o);
  assertClose(one.params, tensor(expected([1, -2])), 1e-15, "t = 1");
  assertClose(one.m, tensor([0.05, -0.025]), 1e-16, "m after 1");
  assertClose(one.v, tensor([0.00025, 0.0000625]), 1e-18, "v after 1");
  const two = adamwStep(one.params, tensor(g), one.m, one.v, 2, o);
  assertClose(two.params, tensor(expected(expected([1, -2]))), 1e-14, "t = 2");
  assert.equal(two.lr, 0.1);
  assert.equal(two.norm, 0); // no clipping: no norm
  assert.equal(two.clip, 1);

  // Clipping: ‖(3, 4)‖ = 5, scaled by 1 / (5 + 1e-6); Adam's first step is sign(g)·lr whatever the
  // scale (up to eps), and the exempt element 0 is not decayed.
  const clipped = adamwStep(tensor([1, 1]), tensor([3, 4]), zeros([2]), zeros([2]), 1, {
    lr: 0.1,
    weightDecay: 1,
    maxNorm: 1,
    noDecay: [[0, 1]],
  });
  assert.equal(clipped.norm, 5);
  assert.equal(clipped.clip, 1 / (5 + 1e-6));
  assert.equal(gradNorm(tensor([3, 4])), 5);
  assert.equal(clipCoefficient(0.5, 1), 1);
  const [g0, g1] = [3 / (5 + 1e-6), 4 / (5 + 1e-6)];
  const want = [1 - 0.1 * g0 / (g0 + 1e-8), 0.9 - 0.1 * g1 / (g1 + 1e-8)];
  assertClose(clipped.params, tensor(want), 1e-15, "clipped, element 0 exempt from decay");
  assertClose(clipped.m, tensor([0.1 * g0, 0.1 * g1]), 1e-16, "clipped m");
});

Deno.test("adamw options: each bad setting is named", () => {
  assert.throws(() => resolveAdamWOptions({ beta1: 1 }), /adamw: beta1 1 must be in \[0, 1\)/);
  assert.throws(() => resolveAdamWOptions({ lr: -1 }), /adamw: lr -1/);
  assert.throws(() => resolveAdamWOptions({ warmup: 1.5 }), /adamw: warmup 1.5/);
  assert.throws(() => resolveAdamWOptions({ schedule: "cosine" }), /cosine total undefined/);
  assert.throws(
    () => resolveAdamWOptions({ schedule: "cosine", warmup: 5, total: 5 }),
    /cosine total 5 must be an integer > warmup 5/,
  );
  assert.throws(() => resolveAdamWOptions({ maxNorm: 0 }), /adamw: maxNorm 0 must be > 0/);
  assert.throws(() => resolveAdamWOptions({ noDecay: [[3, 2]] }), /noDecay range \[3,2\]/);
  assert.throws(() => resolveAdamWOptions({ noDecay: [[0, 5]] }, 4), /not within \[0, 4\]/);
  assert.throws(
    () => adamwStep(tensor([1, 2]), tensor([1]), zeros([2]), zeros([2]), 1),
    /grads has 1 elements, params 2/,
  );
});

// ---- the kernels ----------------------------------------------------------------------------
//
// Tolerances (f32 against float64). The kernel sums the two small terms of an update (lr·wd·p
// and the Adam step, <= ~0.15 here) first and rounds p once: <= 2^-24 · |p| < 3e-7 for |p| < 5,
// plus the small terms' own error (a few 1e-7 relative of <= 0.15: < 1e-7), so < 4e-7 per update
// and 3.2e-6 over the 8 updates of the longest case: P_TOL = 1e-5 leaves a factor 3. The moments
// carry their gradients' error: the clip factor comes from an f32 sum of squares (up to ~20
// roundings deep, 1.2e-6 relative at worst) and each update rounds them twice more, so m and v
// are held to 4e-6 of their largest magnitude. lr, norm and clip in the state: 1e-5 relative.
const P_TOL = 1e-5;
const MOMENT_TOL = 4e-6;

gpuTest("adamw: every torch case on the GPU, all updates of a case in one submit", async (gpu) => {
  for (const c of fixture.cases) {
    const params = gpu.upload(fromFixture(c.params));
    const grads = gpu.upload(fromFixture(c.grads[0]!));
    const { m, v, state } = adamwBuffers(gpu, params);
    const step = await adamw(gpu, { params, grads, m, v, state }, optionsOf(c));
    const check = async (k: number) => {
      const expected = c.steps[k - 1]!;
      const [gp, gm, gv, gs] = await gpu.read([params, m, v, state]);
      const what = `${c.name} after ${k}`;
      expectClose(gp!, fromFixture(expected.params), P_TOL, `${what}: params`);
      const [em, ev] = [fromFixture(expected.m), fromFixture(expected.v)];
      expectClose(gm!, em, MOMENT_TOL * maxAbs(em), `${what}: m`);
      expectClose(gv!, ev, MOMENT_TOL * maxAbs(ev), `${what}: v`);
      const s = readAdamWState(gs!);
      assert.equal(s.t, k, `${what}: t counted on the GPU`);
      closeScalar(s.lr, expected.lr, 1e-5, `${what}: lr`);
      closeScalar(s.norm, expected.norm ?? 0, 1e-5, `${what}: norm`);
      closeScalar(s.clip, expected.clip ?? 1, 1e-5, `${what}: clip`);
    };
    if (!c.varying) {
      gpu.run(step, { repeat: c.steps.length }); // the step counter advances inside one submit
      await check(c.steps.length);
    } else {
      for (let k = 1; k <= c.steps.length; k++) {
        gpu.write(grads, Float32Array.from(c.grads[k - 1]!.data));
        gpu.run(step);
        await check(k);
      }
    }
    releaseDispatches(step);
    for (const t of [params, grads, m, v, state]) t.release();
  }
});

gpuTest(
  "adamw: odd flat sizes against the float64 reference, 4 updates per submit",
  async (gpu) => {
    const rng = new Rng(31);
    const settings: [number, AdamWOptions][] = [
      [1, { lr: 0.05, beta1: 0, weightDecay: 0.3 }],
      [7, { lr: 0.02, beta2: 0.98, weightDecay: 1, maxNorm: 0.5, warmup: 2, noDecay: [[2, 5]] }],
      [1031, { lr: 0.01, maxNorm: Infinity, schedule: "cosine", total: 3, minLr: 1e-3 }],
      [300_007, {
        lr: 0.02,
        beta2: 0.98,
        weightDecay: 1,
        maxNorm: 1,
        warmup: 1,
        schedule: "cosine",
        total: 6,
        minLr: 2e-3,
        noDecay: [[0, 3], [299_000, 300_007], [1000, 1000]],
      }],
    ];
    const k = 4;
    for (const [P, options] of settings) {
      const p0 = roundF32(randomTensor([P], rng));
      const g = roundF32(randomTensor([P], rng));
      let ref = { params: p0, m: zeros([P]), v: zeros([P]), lr: 0, norm: 0, clip: 1 };
      for (let t = 1; t <= k; t++) ref = adamwStep(ref.params, g, ref.m, ref.v, t, options);

      const params = gpu.upload(p0);
      const grads = gpu.upload(g);
      const { m, v, state } = adamwBuffers(gpu, params);
      const step = await adamw(gpu, { params, grads, m, v, state }, options);
      gpu.run(step, { repeat: k });
      const [gp, gm, gv, gs] = await gpu.read([params, m, v, state]);
      expectClose(gp!, ref.params, P_TOL, `P = ${P}: params`);
      expectClose(gm!, ref.m, MOMENT_TOL * maxAbs(ref.m), `P = ${P}: m`);
      expectClose(gv!, ref.v, MOMENT_TOL * maxAbs(ref.v), `P = ${P}: v`);
      const s = readAdamWState(gs!);
      assert.equal(s.t, k);
      closeScalar(s.lr, ref.lr, 1e-5, `P = ${P}: lr`);
      closeScalar(s.norm, ref.norm, 1e-5, `P = ${P}: norm`);
      closeScalar(s.clip, ref.clip, 1e-5, `P = ${P}: clip`);
      const o = resolveAdamWOptions(options);
      closeScalar(s.biasCorrection1, 1 - o.beta1 ** k, 1e-6, `P = ${P}: 1 - β1^t`);
      closeScalar(s.biasCorrection2, 1 - o.beta2 ** k, 1e-6, `P = ${P}: 1 - β2^t`);
      if (options.maxNorm === Infinity) assert.equal(s.clip, 1); // the norm, never a clip

      // Determinism: the same start gives the same bits.
      const first = await bits(gpu, [params, m, v, state]);
      gpu.write(params, Float32Array.from(p0.data));
      for (const t of [m, v]) gpu.write(t, new Float32Array(P));
      gpu.write(state, new Float32Array(ADAMW_STATE_SIZE));
      gpu.run(step, { repeat: k });
      assert.deepEqual(await bits(gpu, [params, m, v, state]), first, `P = ${P}: same bits`);

      releaseDispatches(step);
      for (const t of [params, grads, m, v, state]) t.release();
    }
  },
);

gpuTest(
  "adamw: the bias corrections stay accurate for the first and the ten-thousandth step",
  async (gpu) => {
    // 1 - β2^t at t = 1 is 1e-3 for β2 = 0.999: an f32 pow would keep 3 digits of it.
    const params = gpu.upload(new Float32Array([1, 2, 3]));
    const grads = gpu.upload(new Float32Array([0.1, -0.2, 0.3]));
    const { m, v, state } = adamwBuffers(gpu, params);
    const step = await adamw(gpu, { params, grads, m, v, state }, { beta2: 0.999 });
    for (const t of [1, 2, 10, 100, 10_000]) {
      gpu.write(state, new Int32Array([t - 1, 0, 0, 0, 0, 0, 0, 0]));
      gpu.run(step);
      const s = readAdamWState((await gpu.read([state]))[0]!);
      assert.equal(s.t, t);
      closeScalar(s.biasCorrection1, 1 - 0.9 ** t, 1e-6, `1 - β1^${t}`);
      closeScalar(s.biasCorrection2, 1 - 0.999 ** t, 1e-6, `1 - β2^${t}`);
    }
    releaseDispatches(step);
    for (const t of [params, grads, m, v, state]) t.release();
  },
);

gpuTest("adamw: wrong shapes and settings are refused with the operand named", async (gpu) => {
  const params = gpu.empty([3, 5]);
  const grads = gpu.empty([15]);
  const { m, v, state } = adamwBuffers(gpu, params);
  const small = gpu.empty([4]);
  await assert.rejects(
    adamw(gpu, { params, grads, m, v, state }),
    /adamw: grads has shape \[15\], expected \[3,5\]/,
  );
  await assert.rejects(
    adamw(gpu, { params, grads: m, m, v, state: small }),
    /adamw: state has shape \[4\], expected \[8\]/,
  );
  await assert.rejects(
    adamw(gpu, { params, grads: m, m, v, state }, { noDecay: [[10, 16]] }),
    /noDecay range \[10,16\] is not within \[0, 15\]/,
  );
  await assert.rejects(
    adamw(gpu, { params, grads: m, m, v, state }, { lr: 1e39 }),
    /adamw: lr 1e\+39 is not a finite f32/,
  );
  assert.throws(() => readAdamWState(zeros([8])), /readAdamWState: expected/);
  for (const t of [params, grads, m, v, state, small]) t.release();
});
