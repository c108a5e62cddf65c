/**
 * Launcher for `gather.wgsl`: a training step's minibatch, picked on the GPU from an index table
 * by AdamW's step counter, so that the steps of one submit each train on their own batch.
 *
 * @module
 */

import source from "./gather.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import { ADAMW_STATE_SIZE } from "./adamw.ts";

/**
 * The dispatch that fills `batch` (`tokens [B, T]`, `targets [B, W]`, `weights [B]`) with slot
 * `t mod S` of `table` (`rows [S, B]` example indices, `weights [S, B]`), where t is word 0 of
 * AdamW's `state`: run it before the forward pass, and each step of a submit gets its own batch.
 *
 * @example
 * ```ts ignore
 * const pick = await gatherRows(gpu, { tokens: all, targets: allTargets }, table, state, batch);
 * gpu.run([...pick, ...model.forward, ...model.backward, ...optimizer], { repeat: S });
 * ```
 */
export async function gatherRows(
  gpu: Gpu,
  all: { tokens: GpuTensor; targets: GpuTensor },
  table: { rows: GpuTensor; weights: GpuTensor },
  state: GpuTensor,
  batch: { tokens: GpuTensor; targets: GpuTensor; weights: GpuTensor },
): Promise<Dispatch[]> {
  const [N, T] = all.tokens.shape as [number, number];
  const [S, B] = table.rows.shape as [number, number];
  const W = all.targets.size / N; // targets per example: 1 (the last position's) or T
  expectShape("gather_rows", "all targets", all.targets.shape, W === 1 ? [N] : [N, T]);
  expectShape("gather_rows", "table weights", table.weights.shape, [S, B]);
  expectShape("gather_rows", "state", state.shape, [ADAMW_STATE_SIZE]);
  expectShape("gather_rows", "tokens", batch.tokens.shape, [B, T]);
  expectShape("gather_rows", "targets", batch.targets.shape, [B * W]); // the model's [S]
  expectShape("gather_rows", "weights", batch.weights.shape, [B]);
  return [
    await gpu.kernel({
      label: "gather.wgsl",
      source: fillTemplate(source, { N, T, W, S, B }),
      entryPoint: "gather_rows",
      buffers: [
        all.tokens,
        all.targets,
        table.rows,
        table.weights,
        state,
        batch.tokens,
        batch.targets,
        batch.weights,
      ],
      workgroups: grid1d(B, 256),
    }),
  ];
}
