// gather.wgsl: each step of one submit picks its own rows, by AdamW's step counter, as the table
// says, with one target per example (a one-answer task's) or one per position; checked against the
// rows read off the CPU arrays.
import * as assert from "node:assert/strict";
import { ADAMW_STATE_SIZE, gatherRows } from "../../kernels/mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

for (const W of [1, 3]) {
  gpuTest(
    `gather_rows: slot t mod S of the table, for t the step counter (${W} targets per example)`,
    async (gpu) => {
      const [N, T, S, B] = [11, 3, 4, 5];
      const tokens = Int32Array.from({ length: N * T }, (_, i) => 100 + i);
      const targets = Int32Array.from({ length: N * W }, (_, i) => -i);
      const rows = Int32Array.from({ length: S * B }, (_, i) => (i * 7) % N);
      const weights = Float32Array.from({ length: S * B }, (_, i) => i / 8);
      const all = {
        tokens: gpu.upload(tokens, [N, T]),
        targets: gpu.upload(targets, W === 1 ? [N] : [N, T]),
      };
      const table = { rows: gpu.upload(rows, [S, B]), weights: gpu.upload(weights, [S, B]) };
      const state = gpu.zeros([ADAMW_STATE_SIZE], "i32");
      const out = {
        tokens: gpu.empty([B, T], "i32"),
        targets: gpu.empty([B * W], "i32"),
        weights: gpu.empty([B]),
      };
      const pick = await gatherRows(gpu, all, table, state, out);
      for (const t of [0, 1, 6]) {
        gpu.write(state, Int32Array.from([t, 0, 0, 0, 0, 0, 0, 0]));
        gpu.run(pick);
        const [tok, tgt, w] = await gpu.read([out.tokens, out.targets, out.weights]);
        const slot = t % S;
        const picked = [...rows.subarray(slot * B, (slot + 1) * B)];
        assert.deepEqual(
          [...tgt!.data],
          picked.flatMap((n) => [...targets.subarray(n * W, (n + 1) * W)]),
          `targets at t = ${t}`,
        );
        assert.deepEqual(
          [...tok!.data],
          picked.flatMap((n) => [...tokens.subarray(n * T, (n + 1) * T)]),
        );
        assert.deepEqual([...w!.data], [...weights.subarray(slot * B, (slot + 1) * B)]);
      }
      for (
        const x of [
          all.tokens,
          all.targets,
          table.rows,
          table.weights,
          state,
          ...Object.values(out),
        ]
      ) {
        x.release();
      }
    },
  );
}
