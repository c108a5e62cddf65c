// hook_edit.wgsl against its float64 reference (engine/reference/hook_edit.ts), and the reference
// against hand-worked edits, on shapes off the 256-wide workgroup and regions that cut every axis.
import * as assert from "node:assert/strict";
import { Rng, Tensor, tensor } from "../../engine/tensor/mod.ts";
import * as ref from "../../engine/reference/hook_edit.ts";
import { hookAddForward, hookPatchForward, hookZeroForward } from "../../kernels/mod.ts";
import { assertClose } from "../helpers.ts";
import { expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** Inputs rounded to f32, so the kernel and the reference start from the same values. */
function f32(t: Tensor): Tensor {
  return new Tensor(Float64Array.from(Float32Array.from(t.data)), t.shape);
}

Deno.test("hook_edit reference: hand-worked patch, add and zero", () => {
  // x [B 2, X 2, Y 2, C 1] = 1..8; region rows 1, x 0..2, y 1
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  const region = { rows: [1, 2], x: [0, 2], y: [1, 2] } as const;
  const source = tensor([10, 20, 30, 40, 50, 60, 70, 80], [2, 2, 2, 1]);
  const patched = ref.hookPatchForward(x, source, {
    region,
    rowmap: new Int32Array([0]),
    scale: 2,
  });
  assert.deepEqual([...patched.data], [1, 2, 3, 4, 5, 40, 7, 80]);
  const added = ref.hookAddForward(x, tensor([0.5]), { region, scale: -2 });
  assert.deepEqual([...added.data], [1, 2, 3, 4, 5, 5, 7, 7]);
  assert.deepEqual([...ref.hookZeroForward(x, { region }).data], [1, 2, 3, 4, 5, 0, 7, 0]);
  assert.deepEqual([...x.data], [1, 2, 3, 4, 5, 6, 7, 8], "the input is left as it was");
  assert.throws(
    () => ref.hookZeroForward(x, { region: { rows: [0, 3], x: [0, 1], y: [0, 1] } }),
    /region \[0, 3\) on axis 0 is outside \[0, 2\)/,
  );
});

gpuTest("hook_edit: patch, add and zero against the float64 reference", async (gpu) => {
  const rng = new Rng(5);
  const cases = [
    { shape: [7, 3, 4, 5], region: { rows: [2, 7], x: [1, 3], y: [0, 4] }, S: 3 },
    { shape: [37, 3, 1, 130], region: { rows: [0, 37], x: [2, 3], y: [0, 1] }, S: 37 },
    { shape: [5, 2, 3, 2], region: { rows: [4, 5], x: [0, 2], y: [1, 2] }, S: 1 },
  ] as const;
  for (const { shape, region, S } of cases) {
    const x = f32(randomTensor(shape, rng));
    const source = f32(randomTensor([S, ...shape.slice(1)], rng));
    const vector = f32(randomTensor([shape[3]], rng));
    const n = region.rows[1] - region.rows[0];
    const rowmap = Int32Array.from({ length: n }, () => rng.int(S));
    const scale = Math.fround(0.37);
    const targets = [gpu.upload(x), gpu.upload(x), gpu.upload(x)];
    const [gs, gv] = [gpu.upload(source), gpu.upload(vector)];
    const ds = [
      ...await hookPatchForward(gpu, targets[0]!, gs, { region, rowmap, scale }),
      ...await hookAddForward(gpu, targets[1]!, gv, { region, scale }),
      ...await hookZeroForward(gpu, targets[2]!, { region }),
    ];
    gpu.run(ds);
    const [patched, added, zeroed] = await gpu.read(targets);
    const what = `[${shape}] rows ${region.rows} x ${region.x} y ${region.y}`;
    // One f32 multiply (and add) per element: a few ulps of values of size ~3.
    expectClose(
      patched!,
      ref.hookPatchForward(x, source, { region, rowmap, scale }),
      1e-6,
      `patch ${what}`,
    );
    expectClose(added!, ref.hookAddForward(x, vector, { region, scale }), 1e-6, `add ${what}`);
    assertClose(zeroed!, ref.hookZeroForward(x, { region }), 0, `zero ${what}`);
    for (const t of [...targets, gs, gv]) t.release();
  }
});

gpuTest("hook_edit: a region outside the target or a bad rowmap is refused", async (gpu) => {
  const x = gpu.empty([2, 3, 1, 4]);
  const src = gpu.empty([1, 3, 1, 4]);
  await assert.rejects(
    hookZeroForward(gpu, x, { region: { rows: [0, 2], x: [0, 4], y: [0, 1] } }),
    /hook_zero_forward: region \[0, 4\) on axis 1 is outside \[0, 3\)/,
  );
  await assert.rejects(
    hookPatchForward(gpu, x, src, {
      region: { rows: [0, 2], x: [0, 3], y: [0, 1] },
      rowmap: new Int32Array([0, 1]),
    }),
    /rowmap must hold one row in \[0, 1\) per edited row/,
  );
  x.release();
  src.release();
});
