// layernorm.wgsl against the float64 reference on shapes off every workgroup size, and the
// reference against a hand-worked case, the tensor library's formula, and finite differences.
import * as assert from "node:assert/strict";
import {
  add,
  div,
  mean,
  mul,
  Rng,
  sqrt,
  square,
  sub,
  sum,
  Tensor,
  tensor,
} from "../../engine/tensor/mod.ts";
import { releaseDispatches } from "../../engine/gpu/mod.ts";
import {
  layernormBackward as refBackward,
  layernormForward as refForward,
} from "../../engine/reference/layernorm.ts";
import { layernormBackward, layernormForward } from "../../kernels/layernorm.ts";
import { assertClose, numericGrad } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** The tensor rounded to f32 and held in f64: exactly what the GPU sees after upload. */
function roundToF32(t: Tensor): Tensor {
  return new Tensor(Float64Array.from(Float32Array.from(t.data)), t.shape);
}

Deno.test("layernorm reference forward: a hand-worked row and a constant row", () => {
  const x = tensor([1, 2, 3, 4, 5, 5, 5, 5], [2, 4]);
  const w = tensor([1, 2, 3, 4], [4]);
  const b = tensor([0.5, 0, -0.5, 1], [4]);
  const { y, mean, scale } = refForward(x, w, b, { eps: 0.05 });
  // Row 0: mean 2.5, deviations −1.5 −0.5 0.5 1.5, biased variance 5/4, scale sqrt(1.3).
  // Row 1: mean 5, variance 0, scale sqrt(eps), y = b.
  const s = Math.sqrt(1.3);
  assertClose(mean, tensor([2.5, 5], [2]), 1e-15, "mean");
  assertClose(scale, tensor([s, Math.sqrt(0.05)], [2]), 1e-15, "scale");
  const want = [-1.5 / s + 0.5, -1 / s, 1.5 / s - 0.5, 6 / s + 1, 0.5, 0, -0.5, 1];
  assertClose(y, tensor(want, [2, 4]), 1e-15, "y");
});

Deno.test("layernorm reference forward: agrees with the tensor library's formula", () => {
  const rng = new Rng(31);
  const x = add(randomTensor([3, 5, 7], rng, 2), 3);
  const w = randomTensor([7], rng);
  const b = randomTensor([7], rng);
  const { y, mean: mu, scale } = refForward(x, w, b);
  // TransformerLens: x − mean, scale = sqrt(mean(x²) + eps), x / scale · w + b.
  const centered = sub(x, mean(x, -1, { keepdims: true }));
  const tlScale = sqrt(add(mean(square(centered), -1, { keepdims: true }), 1e-5));
  assertClose(y, add(mul(div(centered, tlScale), w), b), 1e-13, "y");
  assertClose(mu, mean(x, -1), 1e-14, "mean");
  assertClose(scale, tlScale.reshape([3, 5]), 1e-14, "scale");
});

Deno.test("layernorm reference backward: matches central differences", () => {
  const rng = new Rng(32);
  const shape = [2, 3, 5];
  const x = add(randomTensor(shape, rng, 1.5), 0.7);
  const w = randomTensor([5], rng);
  const b = randomTensor([5], rng);
  const dy = randomTensor(shape, rng);
  // loss = Σ y ⊙ dy, so its gradients are the backward of dy.
  const loss = (xv: Tensor, wv: Tensor, bv: Tensor) =>
    sum(mul(refForward(xv, wv, bv).y, dy)).data[0]!;
  const forward = refForward(x, w, b);
  const { dx, dw, db } = refBackward(x, w, forward, dy);
  const numeric = {
    dx: numericGrad((v) => loss(new Tensor(v, shape), w, b), x.toArray() as Float64Array),
    dw: numericGrad((v) => loss(x, new Tensor(v, [5]), b), w.toArray() as Float64Array),
    db: numericGrad((v) => loss(x, w, new Tensor(v, [5])), b.toArray() as Float64Array),
  };
  for (const [name, analytic] of Object.entries({ dx, dw, db })) {
    const want = numeric[name as keyof typeof numeric];
    // Central differences with step 1e-6 in float64: about 1e-9 here; 1e-6 relative to the largest.
    const scaleOf = Math.max(1, ...Array.from(want, Math.abs));
    assertClose(analytic, want, 1e-6 * scaleOf, `layernorm ${name}`);
  }
});

Deno.test("layernorm reference: wrong shapes are refused", () => {
  const x = tensor(new Array(6).fill(1), [2, 3]);
  assert.throws(
    () => refForward(x, tensor([1, 1], [2]), tensor([0, 0, 0], [3])),
    /layernorm_forward: w has shape \[2\], expected \[3\]/,
  );
  const forward = refForward(x, tensor([1, 1, 1], [3]), tensor([0, 0, 0], [3]));
  assert.throws(
    () => refBackward(x, tensor([1, 1, 1], [3]), forward, tensor([1, 2, 3], [3])),
    /layernorm_backward: dy has shape \[3\], expected \[2,3\]/,
  );
});

gpuTest("layernorm_forward / layernorm_backward against float64", async (gpu) => {
  const rng = new Rng(33);
  // [shape, rows per backward workgroup (undefined: the default)]
  const cases: [number[], number | undefined][] = [
    [[1, 1], undefined],
    [[1, 32], undefined],
    [[3, 7], undefined],
    [[17, 33], 4], // 5 chunks, the last one short
    [[5, 3, 67], undefined],
    [[130, 130], 7],
    [[9, 768], undefined], // three columns per invocation
    [[1031, 40], undefined], // past 1024 rows: two rows per workgroup by default
  ];
  for (const [shape, rowsPerWorkgroup] of cases) {
    const D = shape[shape.length - 1]!;
    const rows = shape.slice(0, -1);
    const R = rows.reduce((a, b) => a * b, 1);
    const x = roundToF32(add(randomTensor(shape, rng, 2), 3));
    const w = roundToF32(add(randomTensor([D], rng, 0.5), 1));
    const b = roundToF32(randomTensor([D], rng, 0.5));
    const dy = roundToF32(randomTensor(shape, rng));
    const [gx, gw, gb, gdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(b), gpu.upload(dy)];
    const out = { y: gpu.empty(shape), mean: gpu.empty(rows), scale: gpu.empty(rows) };
    const grads = { dx: gpu.empty(shape), dw: gpu.empty([D]), db: gpu.empty([D]) };
    const dispatches = [
      ...await layernormForward(gpu, gx, gw, gb, out),
      ...await layernormBackward(
        gpu,
        gx,
        gw,
        out,
        gdy,
        grads,
        rowsPerWorkgroup === undefined ? {} : { rowsPerWorkgroup },
      ),
    ];
    gpu.run(dispatches);
    const outputs = [out.y, out.mean, out.scale, grads.dx, grads.dw, grads.db];
    const [y, mu, scale, dx, dw, db] = await gpu.read(outputs);
    const want = refForward(x, w, b);
    const wantGrads = refBackward(x, w, want, dy);
    // f32 with inputs exact: row sums in a fixed tree are within ~log2(D)·6e-8 relative of Σ|x|
    // (|x| ≲ 10 here), so mean and scale are within ~1e-6 and x̂ = (x − mean)/scale within ~1e-6
    // absolute (|x̂| ≲ 4); y = x̂·w + b (|w| ≲ 3) then within ~3e-6: tolerance 5e-6 for y and
    // 2e-6 for mean and scale.
    const what = `[${shape}]`;
    expectClose(y!, want.y, 5e-6, `y ${what}`);
    expectClose(mu!, want.mean, 2e-6, `mean ${what}`);
    expectClose(scale!, want.scale, 2e-6, `scale ${what}`);
    // dx = (g − mean(g) − x̂·mean(g x̂)) / scale with |g| = |w·dy| ≲ 10: a few ulps of 10.
    expectClose(dx!, wantGrads.dx, 5e-6, `dx ${what}`);
    // dw, db: R terms of size ≲ 10 summed in f32 in a fixed order (chunks, then sum_rows), the
    // error a random walk of roundings of partial sums growing like sqrt(R): measured about
    // 4e-7·sqrt(R), held to 3e-6·sqrt(R).
    expectClose(dw!, wantGrads.dw, 3e-6 * Math.sqrt(R), `dw ${what}`);
    expectClose(db!, wantGrads.db, 3e-6 * Math.sqrt(R), `db ${what}`);
    // The same dispatches again: the same bits.
    const first = await bits(gpu, outputs);
    gpu.run(dispatches);
    assert.deepEqual(await bits(gpu, outputs), first, `${what}: bitwise the same again`);
    releaseDispatches(dispatches);
    for (const t of [gx, gw, gb, gdy, ...outputs]) t.release();
  }
});

gpuTest("layernorm_backward with accumulate adds dx into what dx holds", async (gpu) => {
  const rng = new Rng(34);
  for (const shape of [[3, 7], [2, 65, 128]]) {
    const D = shape[shape.length - 1]!;
    const rows = shape.slice(0, -1);
    const x = roundToF32(add(randomTensor(shape, rng, 2), 3));
    const w = roundToF32(add(randomTensor([D], rng, 0.5), 1));
    const b = roundToF32(randomTensor([D], rng, 0.5));
    const dy = roundToF32(randomTensor(shape, rng));
    const before = roundToF32(randomTensor(shape, rng, 4)); // the residual gradient so far
    const [gx, gw, gb, gdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(b), gpu.upload(dy)];
    const out = { y: gpu.empty(shape), mean: gpu.empty(rows), scale: gpu.empty(rows) };
    const grads = { dx: gpu.upload(before), dw: gpu.empty([D]), db: gpu.empty([D]) };
    const dispatches = [
      ...await layernormForward(gpu, gx, gw, gb, out),
      ...await layernormBackward(gpu, gx, gw, out, gdy, grads, { accumulate: true }),
    ];
    gpu.run(dispatches);
    const [dx, dw, db] = await gpu.read([grads.dx, grads.dw, grads.db]);
    const want = refBackward(x, w, refForward(x, w, b), dy);
    // As the float64 test's dx (5e-6), plus one rounding of a sum of size ≲ 20.
    const what = `[${shape}]`;
    expectClose(dx!, add(before, want.dx), 5e-6 + 20 * 6e-8, `before + dx ${what}`);
    const R = rows.reduce((a, b) => a * b, 1);
    expectClose(dw!, want.dw, 3e-6 * Math.sqrt(R), `dw overwritten ${what}`);
    expectClose(db!, want.db, 3e-6 * Math.sqrt(R), `db overwritten ${what}`);
    releaseDispatches(dispatches);
    for (const t of [gx, gw, gb, gdy, out.y, out.mean, out.scale, grads.dx, grads.dw, grads.db]) {
      t.release();
    }
  }
});

gpuTest(
  "layernorm: a constant row and a row offset by 1000",
  async (gpu) => {
    const shape = [2, 5];
    const x = tensor([7, 7, 7, 7, 7, 1000.5, 1001.5, 1000, 999, 1002], shape);
    const w = tensor([1, 2, 3, 4, 5], [5]);
    const b = tensor([0.5, 0.25, 0, -0.25, -0.5], [5]);
    const dy = tensor([1, -2, 3, -4, 5, 1, 1, 1, 1, 1], shape);
    const [gx, gw, gb, gdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(b), gpu.upload(dy)];
    const out = { y: gpu.empty(shape), mean: gpu.empty([2]), scale: gpu.empty([2]) };
    const grads = { dx: gpu.empty(shape), dw: gpu.empty([5]), db: gpu.empty([5]) };
    gpu.run([
      ...await layernormForward(gpu, gx, gw, gb, out, { eps: 1e-5 }),
      ...await layernormBackward(gpu, gx, gw, out, gdy, grads),
    ]);
    const [y, scale, dx] = await gpu.read([out.y, out.scale, grads.dx]);
    const want = refForward(x, w, b, { eps: 1e-5 });
    const wantDx = refBackward(x, w, want, dy).dx;
    const row = (t: Tensor, r: number) => new Tensor(t.data.slice(r * 5, r * 5 + 5), [5]);
    // The constant row: variance 0, scale = sqrt(eps), x̂ = 0 so y = b exactly, and
    // dx = (g − mean(g)) / sqrt(eps), some 7000: f32 holds that to about 1e-7 relative.
    assert.equal(scale!.data[0], Math.fround(Math.sqrt(1e-5)), "constant row: scale = sqrt(eps)");
    assert.deepEqual([...row(y!, 0).data], [...b.data].map(Math.fround), "constant row: y = b");
    expectClose(row(dx!, 0), row(wantDx, 0), 7000 * 3e-7, "dx of the constant row");
    // Around 1000, f32 holds the mean to 3e-5; the two-pass variance keeps x̂, y and dx to about
    // that times |w| ≤ 5 (one pass, E[x²] − E[x]², would lose every digit of a variance near 1).
    expectClose(row(y!, 1), row(want.y, 1), 3e-4, "y of the row offset by 1000");
    expectClose(row(dx!, 1), row(wantDx, 1), 3e-4, "dx of the row offset by 1000");
    for (const t of [gx, gw, gb, gdy, out.y, out.mean, out.scale, grads.dx, grads.dw, grads.db]) {
      t.release();
    }
  },
);

gpuTest("layernorm: wrong shapes are refused", async (gpu) => {
  const x = gpu.empty([4, 6]);
  const w = gpu.empty([6]);
  const bad = gpu.empty([5]);
  const out = { y: gpu.empty([4, 6]), mean: gpu.empty([4]), scale: gpu.empty([4]) };
  await assert.rejects(
    layernormForward(gpu, x, bad, w, out),
    /layernorm_forward: w has shape \[5\], expected \[6\]/,
  );
  await assert.rejects(
    layernormForward(gpu, x, w, w, { ...out, mean: bad }),
    /layernorm_forward: mean has shape \[5\], expected \[4\]/,
  );
  const grads = { dx: gpu.empty([4, 6]), dw: gpu.empty([6]), db: bad };
  await assert.rejects(
    layernormBackward(gpu, x, w, out, x, grads),
    /layernorm_backward: db has shape \[5\], expected \[6\]/,
  );
  await assert.rejects(
    layernormForward(gpu, x, w, w, out, { eps: -1 }),
    /layernorm_forward: eps must be finite and ≥ 0/,
  );
  for (const t of [x, w, bad, out.y, out.mean, out.scale, grads.dx, grads.dw]) t.release();
});
