// The Grokfast-EMA filter: engine/reference/grokfast.ts (before the AdamW reference) against the
// paper's own gradfilter_ema before real torch.optim.AdamW (fixtures/make_grokfast.py, float64),
// and kernels/grokfast.wgsl (before adamw.wgsl) against the reference on flat vectors whose sizes
// are off the workgroup size, across submits, the step counter telling the first update.
import * as assert from "node:assert/strict";
import { releaseDispatches } from "../../engine/gpu/mod.ts";
import { type AdamWOptions, adamwStep } from "../../engine/reference/adamw.ts";
import { checkGrokfastOptions, grokfastStep } from "../../engine/reference/grokfast.ts";
import { Rng, type Tensor, tensor, zeros } from "../../engine/tensor/mod.ts";
import { adamw, adamwBuffers, grokfast } from "../../kernels/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";
import { expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

interface FixtureCase {
  name: string;
  alpha: number;
  lambda: number;
  adamw: AdamWOptions;
  params: FixtureArray;
  grads: FixtureArray[];
  steps: { ema: FixtureArray; grads: FixtureArray; params: FixtureArray }[];
}

const fixture = await loadFixture<{ torch: string; cases: FixtureCase[] }>("grokfast");

Deno.test(`reference: torch ${fixture.torch} gradfilter_ema (the paper's) + AdamW, float64`, () => {
  for (const c of fixture.cases) {
    const o = { alpha: c.alpha, lambda: c.lambda };
    let params = fromFixture(c.params);
    let [m, v, ema] = [zeros(params.shape), zeros(params.shape), zeros(params.shape)];
    c.steps.forEach((want, i) => {
      const t = i + 1;
      const f = grokfastStep(fromFixture(c.grads[i]!), ema, t, o);
      ema = f.ema;
      ({ params, m, v } = adamwStep(params, f.grads, m, v, t, c.adamw));
      const what = `${c.name} step ${t}`;
      assertClose(ema, fromFixture(want.ema), 1e-14, `${what} ema`);
      assertClose(f.grads, fromFixture(want.grads), 1e-14, `${what} filtered grads`);
      assertClose(params, fromFixture(want.params), 1e-12, `${what} params`);
    });
  }
});

Deno.test("grokfastStep: hand-worked updates, and bad settings named", () => {
  // α = 0.75, λ = 4: ema_1 = g_1, then ema_2 = 0.75 · ema_1 + 0.25 · g_2.
  const o = { alpha: 0.75, lambda: 4 };
  const one = grokfastStep(tensor([2, -1]), tensor([9, 9]), 1, o); // the EMA given is ignored
  assert.deepEqual([...one.ema.data], [2, -1]);
  assert.deepEqual([...one.grads.data], [10, -5]);
  const two = grokfastStep(tensor([6, 3]), one.ema, 2, o);
  assert.deepEqual([...two.ema.data], [3, 0]);
  assert.deepEqual([...two.grads.data], [18, 3]);
  const off = grokfastStep(tensor([6, 3]), one.ema, 2, { alpha: 0.5, lambda: 0 });
  assert.deepEqual([...off.grads.data], [6, 3]); // λ = 0: the gradient as it was
  assert.throws(() => checkGrokfastOptions({ alpha: 1, lambda: 2 }), /alpha 1 must be in \[0, 1\)/);
  assert.throws(() => checkGrokfastOptions({ alpha: -0.1, lambda: 2 }), /alpha -0.1/);
  assert.throws(() => checkGrokfastOptions({ alpha: 0.5, lambda: -1 }), /lambda -1 must be/);
  assert.throws(() => grokfastStep(tensor([1]), zeros([2]), 1, o), /ema has 2 elements/);
});

// Tolerances (f32 against float64): the EMA and the filtered gradient are two roundings of values
// of order 1 per update, within 1e-6 of their largest magnitude after 6 updates; params as in
// adamw.test.ts (P_TOL there: 1e-5), the Adam step normalising the filtered gradient.
const EMA_TOL = 1e-6;
const P_TOL = 1e-5;

function maxAbs(t: Tensor): number {
  let max = 0;
  for (const x of t.data) max = Math.max(max, Math.abs(x));
  return max;
}

gpuTest("grokfast: every torch case on the GPU, one update per submit", async (gpu) => {
  for (const c of fixture.cases) {
    const params = gpu.upload(fromFixture(c.params));
    const grads = gpu.upload(fromFixture(c.grads[0]!));
    const { m, v, state } = adamwBuffers(gpu, params);
    const ema = gpu.zeros(params.shape);
    const step = [
      ...await grokfast(gpu, { grads, ema, state }, { alpha: c.alpha, lambda: c.lambda }),
      ...await adamw(gpu, { params, grads, m, v, state }, c.adamw),
    ];
    for (let k = 1; k <= c.steps.length; k++) {
      gpu.write(grads, Float32Array.from(c.grads[k - 1]!.data));
      gpu.run(step);
      const want = c.steps[k - 1]!;
      const [ge, gg, gp] = await gpu.read([ema, grads, params]);
      const what = `${c.name} after ${k}`;
      const [we, wg] = [fromFixture(want.ema), fromFixture(want.grads)];
      expectClose(ge!, we, EMA_TOL * maxAbs(we), `${what}: ema`);
      expectClose(gg!, wg, EMA_TOL * maxAbs(wg), `${what}: filtered grads`);
      expectClose(gp!, fromFixture(want.params), P_TOL, `${what}: params`);
    }
    releaseDispatches(step);
    for (const t of [params, grads, m, v, state, ema]) t.release();
  }
});

gpuTest("grokfast: odd flat sizes against the float64 reference, resumed mid-way", async (gpu) => {
  const rng = new Rng(14);
  for (const P of [1, 257, 70_001]) {
    const o = { alpha: 0.9, lambda: 3 };
    const gs = [0, 1, 2, 3].map(() => randomTensor([P], rng));
    const rounded = gs.map((g) => tensor(Float32Array.from(g.data), [P]).astype("f64"));
    let ref = { grads: zeros([P]), ema: zeros([P]) };
    const grads = gpu.zeros([P]);
    const ema = gpu.zeros([P]);
    const state = gpu.zeros([8]);
    const filter = await grokfast(gpu, { grads, ema, state }, o);
    // Held to the terms' size, not the result's: g + λ·ema may cancel to far below either.
    const scale = (1 + o.lambda) * Math.max(...rounded.map(maxAbs));
    for (let t = 1; t <= 4; t++) {
      ref = grokfastStep(rounded[t - 1]!, ref.ema, t, o);
      gpu.write(grads, Float32Array.from(rounded[t - 1]!.data));
      // AdamW advances the counter after the filter; here the test does, as a resumed run's
      // state would say t - 1 updates done.
      gpu.write(state, new Int32Array([t - 1, 0, 0, 0, 0, 0, 0, 0]));
      gpu.run(filter);
      const [ge, gg] = await gpu.read([ema, grads]);
      expectClose(ge!, ref.ema, EMA_TOL * scale, `P = ${P}, t = ${t}: ema`);
      expectClose(gg!, ref.grads, EMA_TOL * scale, `P = ${P}, t = ${t}: grads`);
    }
    await assert.rejects(
      grokfast(gpu, { grads, ema: gpu.zeros([P + 1]), state }, o),
      /grokfast: ema has shape/,
    );
    await assert.rejects(
      grokfast(gpu, { grads, ema, state }, { alpha: 1, lambda: 1 }),
      /grokfast: alpha 1 must be in \[0, 1\)/,
    );
    for (const t of [grads, ema, state]) t.release();
  }
});
