// last_position.wgsl against the tensor library's slice (forward) and its transpose written out by
// hand (backward), on shapes off the workgroup size; copies, so equal bit for bit.
import * as assert from "node:assert/strict";
import { Rng, slice, Tensor } from "../../engine/tensor/mod.ts";
import { lastPositionBackward, lastPositionForward } from "../../kernels/mod.ts";
import { gpuTest, randomTensor } from "./gpu_helpers.ts";

const SHAPES: [number, number, number][] = [[1, 1, 1], [37, 3, 19], [3, 200, 129]];

for (const [B, T, C] of SHAPES) {
  gpuTest(`last position [${B}, ${T}, ${C}]: forward and backward`, async (gpu) => {
    const rng = new Rng(B + T + C);
    const x = randomTensor([B, T, C], rng);
    const dy = randomTensor([B, 1, C], rng);
    const [xs, dys] = [x, dy].map((t) => gpu.upload(Float32Array.from(t.data), t.shape));
    const y = gpu.empty([B, 1, C]);
    const dx = gpu.upload(new Float32Array(B * T * C).fill(7), [B, T, C]); // overwritten, all of it
    gpu.run([
      ...await lastPositionForward(gpu, xs!, y),
      ...await lastPositionBackward(gpu, dys!, dx),
    ]);
    const [gotY, gotDx] = await gpu.read([y, dx]);
    const want = slice(new Tensor(Float32Array.from(x.data), [B, T, C]), `:, ${T - 1}`);
    assert.deepEqual([...gotY!.data], [...want.data], "x[:, -1, :]");
    // dx: dy at (b, T - 1), 0 at every other position.
    const wantDx = new Float64Array(B * T * C);
    const dy32 = Float32Array.from(dy.data);
    for (let b = 0; b < B; b++) wantDx.set(dy32.subarray(b * C, (b + 1) * C), (b * T + T - 1) * C);
    assert.deepEqual([...gotDx!.data], [...wantDx], "dx: dy at the last position, 0 elsewhere");
    for (const t of [xs!, dys!, y, dx]) t.release();
  });
}

gpuTest("last position: a compact operand of the wrong shape is refused", async (gpu) => {
  const x = gpu.empty([4, 3, 5]);
  const y = gpu.empty([4, 5]);
  await assert.rejects(lastPositionForward(gpu, x, y), /last position/);
  for (const t of [x, y]) t.release();
});
