/**
 * `runWithGrads` on the GPU model: the training backward, started from a metric's gradient
 * instead of the loss's. The model is built to train (`grads`, `scored: "all"`); after its forward
 * pass the fused loss's `dlogits` are overwritten with the metric's, and the backward runs in
 * pieces, each hook's gradient copied out at the point where its buffer holds it
 * (`GpuModel.gradHooks`: the residual stream's gradient is one buffer for every layer).
 *
 * Rows shorter than `n_ctx` are padded at the end: attention is causal, so no padded position
 * reaches a real one forward, and the metric (at the last real position) sends no gradient to
 * them; caches and gradients come back with the real positions only. Shape letters: B batch,
 * P the model's batch, C n_ctx, T the rows' positions, U d_vocab_out.
 *
 * @module
 */

import type { Gpu } from "../gpu/mod.ts";
import { IGNORE } from "../data/task.ts";
import type { GpuModel } from "../model/gpu_model.ts";
import type { ModelConfig } from "../model/config.ts";
import { slice, Tensor } from "../tensor/mod.ts";
import {
  checkLastDlogits,
  gradHookPoint,
  hookPoint,
  hookPoints,
  positionsOf,
} from "./hook_points.ts";
import type { GradOptions, GradResult } from "./types.ts";

/** One `runWithGrads` call. */
export interface GradCall {
  /** `[B, T]` row-major, T <= n_ctx. */
  tokens: Int32Array;
  batch: number;
  /** `[B, U]`: the metric's gradient with respect to the last position's logits. */
  dlogits: Tensor;
  options: GradOptions;
}

/**
 * Runs `call` on `model` (built with `grads` and `scored: "all"` for a batch of at least B):
 * the last real position's logits, the cache of `options.names` and the gradients of
 * `options.grads`, each `[B, T, ...]`.
 *
 * @example
 * ```ts ignore
 * const model = await buildGpuModel(gpu, cfg, layout, { batch: 2, params, grads, scored: "all" });
 * const r = await gpuGrads(gpu, cfg, model, { tokens, batch: 2, dlogits, options: { grads: ["blocks.0.attn.hook_z"] } });
 * ```
 */
export async function gpuGrads(
  gpu: Gpu,
  cfg: ModelConfig,
  model: GpuModel,
  call: GradCall,
): Promise<GradResult> {
  const { tokens, batch, dlogits, options } = call;
  const T = positionsOf(cfg, tokens, batch);
  const [P, C, U] = [model.batch, cfg.n_ctx, cfg.d_vocab_out];
  checkLastDlogits(dlogits, batch, U);
  const points = hookPoints(cfg, batch, T);
  const names = (options.names ?? []).map((n) => hookPoint(points, n).name);
  const wanted = options.grads.map((n) => gradHookPoint(points, n).name);
  const padded = new Int32Array(P * C); // [P, C]: each row's tokens, then token 0
  for (let b = 0; b < batch; b++) padded.set(tokens.subarray(b * T, (b + 1) * T), b * C);
  gpu.write(model.tokens, padded);
  gpu.write(model.targets, new Int32Array(P * C).fill(IGNORE));
  gpu.run(model.forward);
  const buffers = names.map((n) => {
    const buffer = model.hooks.get(n);
    if (buffer === undefined) throw new Error(`${n} is not on the GPU model; use cpuRunner`);
    return buffer;
  });
  const forward = gpu.copyOut([model.logits, ...buffers]);
  const d = new Float32Array(P * C * U); // [P·C, U]: 0 but at each row's last real position
  for (let b = 0; b < batch; b++) {
    d.set(dlogits.data.subarray(b * U, (b + 1) * U), (b * C + T - 1) * U);
  }
  gpu.write(model.dlogits!, d); // after the forward's own, in queue order
  // The backward in pieces, ending where the gradients asked for are in their buffers.
  const stops = wanted.map((n) => ({ name: n, ...model.gradHooks.get(n)! }))
    .sort((a, b) => a.end - b.end);
  let done = 0;
  const copies: { name: string; read: { done(): Promise<Tensor[]> } }[] = [];
  for (const stop of stops) {
    if (stop.end > done) gpu.run(model.backward.slice(done, stop.end));
    done = Math.max(done, stop.end);
    copies.push({ name: stop.name, read: gpu.copyOut([stop.buffer]) });
  }
  const [logits, ...cached] = await forward.done();
  const real = (t: Tensor, name: string) => {
    const shape = hookPoint(points, name).shape; // [B, T, ...] or [B, H, T, T]
    return slice(t.reshape([P, C, ...shape.slice(2)] as number[]), [[0, batch], [0, T]]);
  };
  const grads = new Map<string, Tensor>();
  for (const c of copies) grads.set(c.name, real((await c.read.done())[0]!, c.name));
  const last = Array.from({ length: batch }, (_, b) => b * C + T - 1);
  return {
    logits: takeRows(logits!, last),
    cache: new Map(names.map((n, i) => [n, real(cached[i]!, n)])),
    grads,
  };
}

/** `[rows.length, U]`: the rows `rows` of `t` `[R, U]`. */
function takeRows(t: Tensor, rows: number[]): Tensor {
  const U = t.shape[1]!;
  const out = new Float32Array(rows.length * U);
  rows.forEach((r, i) => out.set(t.data.subarray(r * U, (r + 1) * U), i * U));
  return new Tensor(out, [rows.length, U]);
}
