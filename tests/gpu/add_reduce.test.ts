// add.wgsl and reduce.wgsl against the tensor library in float64, on shapes off every tile.
import * as assert from "node:assert/strict";
import { add, Rng, sum, Tensor } from "../../engine/tensor/mod.ts";
import { addForward, addInplace, sumRows, zeroFill } from "../../kernels/mod.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

gpuTest("add_forward / add_inplace: same shape and bias broadcast", async (gpu) => {
  const rng = new Rng(11);
  for (const [rows, cols] of [[1, 1], [3, 7], [257, 5], [1031, 129]] as const) {
    const a = randomTensor([rows, cols], rng);
    const bias = randomTensor([cols], rng);
    const other = randomTensor([rows, cols], rng);
    const [ga, gb, go] = [gpu.upload(a), gpu.upload(bias), gpu.upload(other)];
    const out = gpu.empty([rows, cols]);
    gpu.run(await addForward(gpu, ga, gb, out));
    gpu.run(await addInplace(gpu, go, ga)); // other += a
    const [sumBias, acc] = await gpu.read([out, go]);
    expectClose(sumBias!, add(a, bias), 1e-6, `a + bias [${rows},${cols}]`);
    expectClose(acc!, add(other, a), 1e-6, `other += a [${rows},${cols}]`);
    for (const t of [ga, gb, go, out]) t.release();
  }
});

gpuTest("fill: every element zero, however many workgroups", async (gpu) => {
  const x = gpu.upload(new Float32Array(1031).fill(3.5));
  gpu.run(await zeroFill(gpu, x));
  const [got] = await gpu.read([x]);
  assert.deepEqual([...got!.data], new Array(1031).fill(0));
  x.release();
});

gpuTest("add: shapes that do not broadcast are refused", async (gpu) => {
  const a = gpu.empty([3, 4]);
  const b = gpu.empty([3]);
  await assert.rejects(addForward(gpu, a, b, a), /\[3\] does not broadcast over \[3,4\]/);
  a.release();
  b.release();
});

gpuTest("sum_rows: one and two launches, against float64 sums", async (gpu) => {
  const rng = new Rng(12);
  for (const [rows, cols] of [[1, 3], [5, 1], [17, 33], [11490, 1], [3001, 130], [40, 5000]]) {
    const x = randomTensor([rows!, cols!], rng);
    const gx = gpu.upload(x);
    const out = gpu.empty([cols!]);
    const ds = await sumRows(gpu, gx, out);
    gpu.run(ds);
    const [got] = await gpu.read([out]);
    // f32 inputs summed in f32: error grows like sqrt(rows) * eps * |x|.
    expectClose(got!, sum(x, 0), 1e-6 * rows! ** 0.5 * 8, `sum_rows [${rows},${cols}]`);
    const first = await bits(gpu, [out]);
    gpu.run(ds);
    assert.deepEqual(await bits(gpu, [out]), first, "bitwise the same on a second run");
    gx.release();
    out.release();
  }
});

gpuTest("sum_rows: members' sums, each the one model's bit for bit, strided out", async (gpu) => {
  const rng = new Rng(13);
  const G = 3;
  for (const [rows, cols] of [[17, 33], [11490, 1], [3001, 130]] as const) {
    const x = randomTensor([G, rows, cols], rng); // member g's rows after member g - 1's
    const stride = cols + 6; // member g's sums 6 past the end of member g - 1's
    const gx = gpu.upload(x);
    const out = gpu.zeros([G * stride]);
    gpu.run(await sumRows(gpu, gx, out.view(0, [cols]), { count: G, stride }));
    // Each member alone, from its own buffer: one model's sums.
    const alone = [];
    for (let g = 0; g < G; g++) {
      const own = gpu.upload(
        new Tensor(x.data.slice(g * rows * cols, (g + 1) * rows * cols), [
          rows,
          cols,
        ]),
      );
      const sums = gpu.empty([cols]);
      gpu.run(await sumRows(gpu, own, sums));
      own.release();
      alone.push(sums);
    }
    const [got, ...one] = await bits(gpu, [out, ...alone]);
    const what = `sum_rows ${G} × [${rows},${cols}]`;
    for (let g = 0; g < G; g++) {
      const mine = got!.subarray(g * stride, g * stride + cols);
      assert.deepEqual(mine, one[g], `${what}: member ${g}`);
      assert.ok(got!.subarray(g * stride + cols, (g + 1) * stride).every((b) => b === 0));
    }
    const [sums] = await gpu.read([out]);
    const mine = Array.from(
      { length: G },
      (_, g) => [...sums!.data.subarray(g * stride, g * stride + cols)],
    );
    expectClose(
      new Tensor(Float64Array.from(mine.flat()), [G, cols]),
      sum(x, 1),
      1e-6 * rows ** 0.5 * 8,
      what,
    );
    for (const t of [gx, out, ...alone]) t.release();
  }
});
