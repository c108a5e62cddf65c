// embed.wgsl against engine/reference/embed.ts, and the reference against finite differences and a
// hand-worked case, on shapes off every workgroup size.
import * as assert from "node:assert/strict";
import { releaseDispatches } from "../../engine/gpu/mod.ts";
import {
  embedBackward as refBackward,
  embedForward as refForward,
} from "../../engine/reference/embed.ts";
import { Rng, Tensor, tensor } from "../../engine/tensor/mod.ts";
import { embedBackward, embedForward } from "../../kernels/embed.ts";
import { assertClose, numericGrad } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** f32-representable normals: what the GPU sees. */
function f32Tensor(shape: number[], rng: Rng): Tensor {
  return new Tensor(randomTensor(shape, rng).data.map(Math.fround), shape);
}

/** Token ids in [0, V), with a few out of range (-1, V, V + 5) where there is room. */
function tokensOf(B: number, T: number, V: number, rng: Rng, outOfRange = true): Tensor {
  const ids = Array.from({ length: B * T }, () => rng.int(V));
  if (outOfRange && ids.length > 6) [ids[1], ids[4], ids[ids.length - 1]] = [-1, V, V + 5];
  return tensor(ids, [B, T], "i32");
}

Deno.test("embed reference: hand-worked forward and backward", () => {
  const W_E = tensor([1, 2, 10, 20, 100, 200], [3, 2]);
  const W_pos = tensor([0.5, 0.25, 3, 4, 7, 8], [3, 2]);
  const tokens = tensor([2, 0, 0, 9], [2, 2], "i32"); // 9 is out of range: embeds as zeros
  assert.deepEqual(refForward(tokens, W_E, W_pos).toNested(), [
    [[100.5, 200.25], [4, 6]],
    [[1.5, 2.25], [3, 4]],
  ]);
  const dresid = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
  const { dW_E, dW_pos } = refBackward(tokens, dresid, { dVocab: 3, nCtx: 3 });
  assert.deepEqual(dW_E.toNested(), [[8, 10], [0, 0], [1, 2]]);
  assert.deepEqual(dW_pos.toNested(), [[6, 8], [10, 12], [0, 0]]);
});

Deno.test("embed reference: backward is the gradient of Σ resid·G (central differences)", () => {
  const rng = new Rng(5);
  const [B, T, C, V, D] = [3, 4, 6, 5, 3];
  const tokens = tensor([0, 1, 1, 4, 2, 2, 0, -1, 1, 4, 4, 7], [B, T], "i32");
  const W_E = randomTensor([V, D], rng);
  const W_pos = randomTensor([C, D], rng);
  const G = randomTensor([B, T, D], rng);
  const dot = (resid: Tensor) => {
    let sum = 0;
    for (let i = 0; i < resid.size; i++) sum += resid.data[i]! * G.data[i]!;
    return sum;
  };
  const numE = numericGrad(
    (flat) => dot(refForward(tokens, new Tensor(flat, [V, D]), W_pos)),
    Float64Array.from(W_E.data),
  );
  const numPos = numericGrad(
    (flat) => dot(refForward(tokens, W_E, new Tensor(flat, [C, D]))),
    Float64Array.from(W_pos.data),
  );
  const { dW_E, dW_pos } = refBackward(tokens, G, { dVocab: V, nCtx: C });
  // Linear in the weights: central differences are exact up to rounding (~1e-10).
  assertClose(dW_E.data, numE, 1e-6, "dW_E");
  assertClose(dW_pos.data, numPos, 1e-6, "dW_pos");
});

gpuTest(
  "embed_forward / embed_backward: against the f64 reference, off every tile",
  async (gpu) => {
    const rng = new Rng(31);
    // [B, T, C, V, D, vocabulary rows per workgroup (default where undefined)]
    const shapes: [number, number, number, number, number, number | undefined][] = [
      [1, 1, 1, 1, 1, undefined],
      [3, 7, 9, 17, 5, undefined],
      [17, 3, 3, 113, 33, undefined],
      [2, 130, 131, 7, 130, 3],
      [33, 5, 7, 301, 17, 7],
      [5, 11, 11, 4099, 3, undefined], // the default batches 2 vocabulary rows per workgroup
      [2, 3, 4, 5, 300, 2], // D > 256: two columns per invocation
    ];
    for (const [B, T, C, V, D, vocabPerWorkgroup] of shapes) {
      const tokens = tokensOf(B, T, V, rng);
      const W_E = f32Tensor([V, D], rng);
      const W_pos = f32Tensor([C, D], rng);
      const dresid = f32Tensor([B, T, D], rng);
      const [gt, gE, gP, gd] = [
        gpu.upload(tokens),
        gpu.upload(W_E),
        gpu.upload(W_pos),
        gpu.upload(dresid),
      ];
      const resid = gpu.empty([B, T, D]);
      // Poisoned outputs: every element must be written.
      const dW_E = gpu.upload(new Float32Array(V * D).fill(NaN), [V, D]);
      const dW_pos = gpu.upload(new Float32Array(C * D).fill(NaN), [C, D]);
      const ds = [
        ...await embedForward(gpu, { tokens: gt, W_E: gE, W_pos: gP }, resid),
        ...await embedBackward(
          gpu,
          { tokens: gt, dresid: gd },
          { dW_E, dW_pos },
          vocabPerWorkgroup === undefined ? {} : { vocabPerWorkgroup },
        ),
      ];
      gpu.run(ds);
      const [r, e, p] = await gpu.read([resid, dW_E, dW_pos]);
      const want = refBackward(tokens, dresid, { dVocab: V, nCtx: C });
      const shape = `[${B},${T},${C},${V},${D}]`;
      // One f32 addition of values ~N(0, 1): half an ulp of ~4, 2.4e-7.
      expectClose(r!, refForward(tokens, W_E, W_pos), 1e-6, `resid ${shape}`);
      // f32 sums of up to B·T normals: error grows like sqrt(count)·eps·|x|, as sum_rows' test.
      const tol = 1e-6 * Math.sqrt(B * T) * 8;
      expectClose(e!, want.dW_E, tol, `dW_E ${shape}`);
      expectClose(p!, want.dW_pos, tol, `dW_pos ${shape}`);
      const first = await bits(gpu, [resid, dW_E, dW_pos]);
      gpu.run(ds);
      assert.deepEqual(await bits(gpu, [resid, dW_E, dW_pos]), first, "same bits on a second run");
      releaseDispatches(ds);
      for (const t of [gt, gE, gP, gd, resid, dW_E, dW_pos]) t.release();
    }
  },
);

gpuTest(
  "embed_backward: many repeats of few tokens sum in token order, bit for bit",
  async (gpu) => {
    // V = 3 over 2000 tokens: every WG-token chunk hits every row; the f32 sum in token order is
    // the reference here, exactly.
    const rng = new Rng(32);
    const [B, T, C, V, D] = [400, 5, 5, 3, 2];
    const tokens = tokensOf(B, T, V, rng, false);
    const dresid = f32Tensor([B, T, D], rng);
    const ordered = new Float32Array(V * D);
    for (let n = 0; n < B * T; n++) {
      const v = tokens.data[n]!;
      for (let d = 0; d < D; d++) {
        ordered[v * D + d] = Math.fround(
          ordered[v * D + d]! + dresid.data[n * D + d]!,
        );
      }
    }
    const [gt, gd, dW_E, dW_pos] = [
      gpu.upload(tokens),
      gpu.upload(dresid),
      gpu.empty([V, D]),
      gpu.empty([C, D]),
    ];
    const ds = await embedBackward(gpu, { tokens: gt, dresid: gd }, { dW_E, dW_pos });
    gpu.run(ds);
    const [e] = await gpu.read([dW_E]);
    assert.deepEqual([...e!.data], [...ordered]);
    releaseDispatches(ds);
    for (const t of [gt, gd, dW_E, dW_pos]) t.release();
  },
);

gpuTest("embed: wrong shapes and dtypes are refused", async (gpu) => {
  const tokens = gpu.empty([2, 3], "i32");
  const W_E = gpu.empty([5, 4]);
  const W_pos = gpu.empty([2, 4]);
  const resid = gpu.empty([2, 3, 4]);
  const dW_pos = gpu.empty([3, 5]);
  const floatTokens = gpu.empty([2, 3]);
  await assert.rejects(
    embedForward(gpu, { tokens, W_E, W_pos }, resid),
    /embed_forward: W_pos has 2 positions, fewer than T = 3/,
  );
  await assert.rejects(
    embedForward(gpu, { tokens: floatTokens, W_E, W_pos }, resid),
    /embed_forward: tokens has dtype f32, expected i32/,
  );
  await assert.rejects(
    embedBackward(gpu, { tokens, dresid: resid }, { dW_E: W_E, dW_pos }),
    /embed_backward: dW_pos has shape \[3,5\], expected \[3,4\]/,
  );
  await assert.rejects(
    embedBackward(gpu, { tokens, dresid: resid }, { dW_E: W_E, dW_pos: resid.view(0, [3, 4]) }, {
      vocabPerWorkgroup: 1e6,
    }),
    /do not fit in \d+ bytes of workgroup memory/,
  );
  for (const t of [tokens, W_E, W_pos, resid, dW_pos, floatTokens]) t.release();
});

gpuTest("embed_forward: two members' weights, W_E bound in two blocks of rows", async (gpu) => {
  const rng = new Rng(41);
  const [G, Bm, T, C, V, D] = [2, 3, 5, 6, 12, 16];
  // A member's weights: W_E [V, D] then W_pos [C, D], every view on a 256-byte boundary.
  const P = (V + C) * D;
  const flat = f32Tensor([G, P], rng);
  const tokens = tokensOf(G * Bm, T, V, rng);
  const [gt, gw] = [gpu.upload(tokens), gpu.upload(flat)];
  const members = { count: G, stride: P };
  const W_pos = gw.view(V * D, [C, D]);
  for (const positions of [true, false]) {
    const resid = gpu.empty([G * Bm, T, D]);
    const ds = [];
    for (const [v0, rows] of [[0, 4], [4, V - 4]] as const) {
      const inputs = { tokens: gt, W_E: gw.view(v0 * D, [rows, D]), W_pos };
      const at = { positions, firstRow: v0, accumulate: v0 > 0, members };
      ds.push(...await embedForward(gpu, inputs, resid, at));
    }
    gpu.run(ds);
    const [got] = await gpu.read([resid]);
    // Member g: its own tokens through its own W_E and W_pos (zeros without positions).
    const want = new Float64Array(G * Bm * T * D);
    for (let g = 0; g < G; g++) {
      const ids = Array.from(tokens.data.slice(g * Bm * T, (g + 1) * Bm * T));
      const W_E = new Tensor(flat.data.slice(g * P, g * P + V * D), [V, D]);
      const pos = positions ? flat.data.slice(g * P + V * D, (g + 1) * P) : new Float64Array(C * D);
      const r = refForward(tensor(ids, [Bm, T], "i32"), W_E, new Tensor(pos, [C, D]));
      want.set(r.data, g * Bm * T * D);
    }
    expectClose(got!, new Tensor(want, [G * Bm, T, D]), 1e-6, `positions ${positions}`);
    resid.release();
  }
  for (const t of [gt, gw]) t.release();
});
