// attention.wgsl against the float64 reference on shapes off every workgroup size, and the
// reference against a hand-worked case, a plain-loop formula and central differences.
import * as assert from "node:assert/strict";
import {
  type Dispatch,
  type Gpu,
  type GpuTensor,
  releaseDispatches,
} from "../../engine/gpu/mod.ts";
import {
  attentionBackward as refBackward,
  attentionForward as refForward,
} from "../../engine/reference/attention.ts";
import { map, mul, Rng, sum, Tensor, tensor } from "../../engine/tensor/mod.ts";
import { attentionBackward, attentionForward, attentionScores } from "../../kernels/attention.ts";
import { assertClose, numericGrad } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** Attention by plain loops over [b, i, h, e] indices: the independent formula. */
function loopAttention(q: Tensor, k: Tensor, v: Tensor, scale: number) {
  const [B, T, H, E] = q.shape as [number, number, number, number];
  const at = (t: Tensor, b: number, i: number, h: number, e: number) =>
    t.data[((b * T + i) * H + h) * E + e]!;
  const scores = new Float64Array(B * H * T * T).fill(-Infinity);
  const pattern = new Float64Array(B * H * T * T);
  const z = new Float64Array(B * T * H * E);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const row = ((b * H + h) * T + i) * T;
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let e = 0; e < E; e++) dot += at(q, b, i, h, e) * at(k, b, j, h, e);
          scores[row + j] = dot * scale;
        }
        const m = Math.max(...scores.subarray(row, row + i + 1));
        let total = 0;
        for (let j = 0; j <= i; j++) total += Math.exp(scores[row + j]! - m);
        for (let j = 0; j <= i; j++) pattern[row + j] = Math.exp(scores[row + j]! - m) / total;
        for (let e = 0; e < E; e++) {
          let acc = 0;
          for (let j = 0; j <= i; j++) acc += pattern[row + j]! * at(v, b, j, h, e);
          z[((b * T + i) * H + h) * E + e] = acc;
        }
      }
    }
  }
  return {
    scores: new Tensor(scores, [B, H, T, T]),
    pattern: new Tensor(pattern, [B, H, T, T]),
    z: new Tensor(z, q.shape),
  };
}

/** -Infinity where `expected` has it (asserted in `actual` too), as 0 in both, for closeness. */
function finiteParts(actual: Tensor, expected: Tensor, what: string): [Tensor, Tensor] {
  for (let n = 0; n < expected.size; n++) {
    if ((expected.data[n] === -Infinity) !== (actual.data[n] === -Infinity)) {
      throw new assert.AssertionError({ message: `${what}: -Infinity mismatch at ${n}` });
    }
  }
  const zeroed = (t: Tensor) => map(t, (x) => (x === -Infinity ? 0 : x), "f64");
  return [zeroed(actual), zeroed(expected)];
}

Deno.test("attention reference: hand-worked two positions", () => {
  // Position 0 sees only key 0; position 1 scores keys 0 and 1 as 0 and ln 3: pattern 1/4, 3/4.
  const q = tensor([0, 1], [1, 2, 1, 1]);
  const k = tensor([0, Math.log(3)], [1, 2, 1, 1]);
  const v = tensor([4, 8], [1, 2, 1, 1]);
  const { scores, pattern, z } = refForward(q, k, v);
  assert.deepEqual([...scores.data], [0, -Infinity, 0, Math.log(3)]);
  assertClose(pattern, tensor([1, 0, 0.25, 0.75], [1, 1, 2, 2]), 1e-15, "pattern");
  assertClose(z, tensor([4, 7], [1, 2, 1, 1]), 1e-14, "z");
  // d_head 4: the default scale is 1/2; scale 1 doubles the scores.
  const q4 = tensor([1, 1, 1, 1, 2, 0, 0, 0], [1, 2, 1, 4]);
  assert.deepEqual([...refForward(q4, q4, q4).scores.data], [2, -Infinity, 1, 2]);
  assert.deepEqual([...refForward(q4, q4, q4, { scale: 1 }).scores.data], [4, -Infinity, 2, 4]);
});

Deno.test("attention reference: forward equals plain loops", () => {
  const rng = new Rng(1);
  for (const [B, T, H, E, scale] of [[1, 1, 1, 1, 1], [2, 5, 3, 7, 0.3], [3, 9, 2, 4, 0.5]]) {
    const [q, k, v] = [0, 1, 2].map(() => randomTensor([B!, T!, H!, E!], rng, 2));
    const ref = refForward(q!, k!, v!, { scale: scale! });
    const loop = loopAttention(q!, k!, v!, scale!);
    assertClose(...finiteParts(ref.scores, loop.scores, "scores"), 1e-12, "scores");
    assertClose(ref.pattern, loop.pattern, 1e-14, "pattern");
    assertClose(ref.z, loop.z, 1e-12, "z");
  }
});

Deno.test("attention reference: backward equals central differences", () => {
  const rng = new Rng(2);
  for (const [shape, scale] of [[[2, 4, 3, 5], undefined], [[1, 6, 2, 3], 0.7]] as const) {
    const [q, k, v, dz] = [0, 1, 2, 3].map(() => randomTensor(shape, rng));
    const options = scale === undefined ? {} : { scale };
    const { pattern } = refForward(q!, k!, v!, options);
    const grads = refBackward({ q: q!, k: k!, v: v!, pattern, dz: dz! }, options);
    // The loss Σ z ⊙ dz has gradient dz with respect to z.
    const loss = (qq: Tensor, kk: Tensor, vv: Tensor) =>
      sum(mul(refForward(qq, kk, vv, options).z, dz!)).data[0]!;
    const inputs = { q: q!, k: k!, v: v! };
    for (const name of ["q", "k", "v"] as const) {
      const x = Float64Array.from(inputs[name].data);
      const numeric = numericGrad((data) => {
        const t = new Tensor(data, shape);
        return loss(
          name === "q" ? t : q!,
          name === "k" ? t : k!,
          name === "v" ? t : v!,
        );
      }, x);
      const analytic = grads[`d${name}`];
      const big = Math.max(1, ...analytic.data.map(Math.abs));
      assertClose(analytic, new Tensor(numeric, shape), 1e-6 * big, `d${name} [${shape}]`);
    }
  }
});

/** A random f64 tensor rounded to f32 values, so the GPU and the reference see the same inputs. */
function f32Values(shape: readonly number[], rng: Rng, scale = 1): Tensor {
  return randomTensor(shape, rng, scale).astype("f32").astype("f64");
}

interface Run {
  dispatches: Dispatch[];
  outputs: GpuTensor[];
  inputs: GpuTensor[];
}

/** Forward, scores and backward dispatches over uploaded q, k, v, dz. */
async function launch(
  gpu: Gpu,
  [q, k, v, dz]: Tensor[],
  scale: number | undefined,
): Promise<Run> {
  const [B, T, H] = q!.shape as [number, number, number, number];
  const options = scale === undefined ? {} : { scale };
  const inputs = [q!, k!, v!, dz!].map((t) => gpu.upload(t));
  const [gq, gk, gv, gdz] = inputs as [GpuTensor, GpuTensor, GpuTensor, GpuTensor];
  const pattern = gpu.empty([B, H, T, T]);
  const scores = gpu.empty([B, H, T, T]);
  const [z, dq, dk, dv] = [0, 1, 2, 3].map(() => gpu.empty(q!.shape));
  const dispatches = [
    ...await attentionForward(gpu, { q: gq, k: gk, v: gv }, { pattern, z: z! }, options),
    ...await attentionScores(gpu, { q: gq, k: gk }, scores, options),
    ...await attentionBackward(
      gpu,
      { q: gq, k: gk, v: gv, pattern, dz: gdz },
      { dq: dq!, dk: dk!, dv: dv! },
      options,
    ),
  ];
  return { dispatches, outputs: [scores, pattern, z!, dq!, dk!, dv!], inputs };
}

gpuTest(
  "attention: forward, scores and backward against float64, then the same bits",
  async (gpu) => {
    const rng = new Rng(3);
    // [B, T, H, E, scale]: none a multiple of the 256-wide workgroup; T up to 257; E up to 130;
    // scale 2 checks that an integer scale is written as a float literal.
    const cases = [
      [1, 1, 1, 1, undefined],
      [3, 5, 2, 7, undefined],
      [2, 17, 3, 33, 0.3],
      [7, 3, 4, 130, undefined],
      [33, 4, 1, 32, 2],
      [1, 257, 1, 3, undefined],
    ] as const;
    for (const [B, T, H, E, scale] of cases) {
      const shape = [B, T, H, E];
      const [q, k, v, dz] = [0, 1, 2, 3].map(() => f32Values(shape, rng));
      const options = scale === undefined ? {} : { scale };
      const ref = refForward(q!, k!, v!, options);
      const grads = refBackward({ q: q!, k: k!, v: v!, pattern: ref.pattern, dz: dz! }, options);

      const run = await launch(gpu, [q!, k!, v!, dz!], scale);
      gpu.run(run.dispatches);
      const [scores, pattern, z, dq, dk, dv] = await gpu.read(run.outputs);
      // f32 against f64 on the same f32 inputs: a dot product over E of unit normals carries
      // about √E · 6e-8 · |q||k| of rounding, scaled by 1/√E into the scores; exp, the row sum and
      // the sums over T of z, dq, dk, dv add a few ulps more. 5e-6 · √E (x10 at scale 2, whose
      // scores are 2√E times the default's) is about ten times the largest difference seen.
      const tol = 5e-6 * Math.sqrt(E) * (scale === 2 ? 10 : 1);
      const what = `[${shape}]${scale === undefined ? "" : ` scale ${scale}`}`;
      expectClose(...finiteParts(scores!, ref.scores, "scores"), tol, `scores ${what}`);
      expectClose(pattern!, ref.pattern, tol, `pattern ${what}`);
      expectClose(z!, ref.z, tol, `z ${what}`);
      expectClose(dq!, grads.dq, tol, `dq ${what}`);
      expectClose(dk!, grads.dk, tol, `dk ${what}`);
      expectClose(dv!, grads.dv, tol, `dv ${what}`);

      const first = await bits(gpu, run.outputs);
      gpu.run(run.dispatches);
      assert.deepEqual(
        await bits(gpu, run.outputs),
        first,
        `bitwise the same on a second run ${what}`,
      );

      releaseDispatches(run.dispatches);
      for (const t of [...run.inputs, ...run.outputs]) t.release();
    }
  },
);

gpuTest("attention: large scores stay finite and the mask stays exact", async (gpu) => {
  // Scores of order ±1e4: without the max subtracted exp would overflow f32.
  const rng = new Rng(4);
  const shape = [2, 6, 3, 8];
  const [q, k, v, dz] = [100, 100, 1, 1].map((s) => f32Values(shape, rng, s));
  const ref = refForward(q!, k!, v!);
  const run = await launch(gpu, [q!, k!, v!, dz!], undefined);
  gpu.run(run.dispatches);
  const [, pattern, z, dq] = await gpu.read(run.outputs);

  assert.ok([...pattern!.data, ...z!.data, ...dq!.data].every(Number.isFinite), "all finite");
  for (let n = 0; n < pattern!.size; n++) {
    const [i, j] = [Math.floor(n / 6) % 6, n % 6];
    if (j > i) assert.equal(pattern!.data[n], 0, "exactly 0 above the diagonal");
  }
  // f32 rounding moves scores of 1e4 by up to ~1e-3, which moves a probability p by at most
  // 1e-3 · p(1 - p) ≤ 3e-4 (only near-ties would show it; rows are otherwise one-hot) and z by
  // that times Σ|v| over 6 positions.
  expectClose(pattern!, ref.pattern, 1e-3, "pattern, scores ~1e4");
  expectClose(z!, ref.z, 1e-2, "z, scores ~1e4");
  releaseDispatches(run.dispatches);
  for (const t of [...run.inputs, ...run.outputs]) t.release();
});

gpuTest("attention: wrong shapes are refused, naming the operand", async (gpu) => {
  const q = gpu.empty([2, 3, 4, 5]);
  const k = gpu.empty([2, 3, 4, 6]);
  const pattern = gpu.empty([2, 4, 3, 3]);
  const flat = gpu.empty([6, 20]);
  await assert.rejects(
    attentionForward(gpu, { q, k, v: q }, { pattern, z: q }),
    /attention_forward: k has shape \[2,3,4,6\], expected \[2,3,4,5\]/,
  );
  await assert.rejects(
    attentionForward(gpu, { q, k: q, v: q }, { pattern: q, z: q }),
    /attention_forward: pattern has shape \[2,3,4,5\], expected \[2,4,3,3\]/,
  );
  await assert.rejects(
    attentionScores(gpu, { q: flat, k: flat }, pattern),
    /attention_scores: q has shape \[6,20\], expected \[batch, pos, head, d_head\]/,
  );
  await assert.rejects(
    attentionBackward(gpu, { q, k: q, v: q, pattern, dz: q }, { dq: q, dk: k, dv: q }),
    /attention_backward: dk has shape \[2,3,4,6\], expected \[2,3,4,5\]/,
  );
  for (const t of [q, k, pattern, flat]) t.release();
});
