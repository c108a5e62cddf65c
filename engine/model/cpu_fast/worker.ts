/**
 * One worker of `CpuWorkers`: runs `fastLossAndGrads` on the rows it is sent and posts back the
 * loss and the gradients (transferred, not copied).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { ModelConfig } from "../config.ts";
import { type ParamLayout, paramLayout } from "../params.ts";
import { fastLossAndGrads } from "./model.ts";

/** What the pool sends: a config, the flat weights and one shard of the batch. */
export interface WorkerRequest {
  id: number;
  cfg: ModelConfig;
  params: Float32Array;
  data: { tokens: Int32Array; targets: Int32Array; rowWeights: Float64Array; batch: number };
}

/** What the worker answers: the shard's loss and gradients, or the error's one line. */
export type WorkerReply =
  | { id: number; loss: number; grads: Float32Array }
  | { id: number; error: string };

let cached: { key: string; layout: ParamLayout } | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const { id, cfg, params, data } = event.data;
  try {
    const key = JSON.stringify(cfg);
    if (cached?.key !== key) cached = { key, layout: paramLayout(cfg) };
    const { loss, grads } = fastLossAndGrads(cfg, cached.layout, params, data);
    self.postMessage({ id, loss, grads } satisfies WorkerReply, [grads.buffer as ArrayBuffer]);
  } catch (e) {
    self.postMessage({ id, error: (e as Error).message } satisfies WorkerReply);
  }
};
