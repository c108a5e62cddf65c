/**
 * One worker of `CpuWorkers`: runs `fastLossAndGrads` or `fastEval` on the rows it is sent and
 * posts back the result (its arrays transferred, not copied).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { ModelConfig } from "../config.ts";
import { type ParamLayout, paramLayout } from "../params.ts";
import { fastEval } from "./eval.ts";
import { fastLossAndGrads } from "./model.ts";

/** What the pool sends: a config, the flat weights and one shard of the batch. */
export type WorkerRequest =
  & {
    id: number;
    cfg: ModelConfig;
    params: Float32Array;
  }
  & (
    | {
      kind: "grads";
      data: { tokens: Int32Array; targets: Int32Array; rowWeights: Float64Array; batch: number };
    }
    | { kind: "eval"; data: { tokens: Int32Array; targets: Int32Array; batch: number } }
  );

/** What the worker answers: the shard's result, or the error's one line. */
export type WorkerReply =
  | { id: number; loss: number; grads: Float32Array }
  | { id: number; loss: Float64Array; correct: Float64Array }
  | { id: number; error: string };

let cached: { key: string; layout: ParamLayout } | undefined;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const { id, cfg, params } = request;
  try {
    const key = JSON.stringify(cfg);
    if (cached?.key !== key) cached = { key, layout: paramLayout(cfg) };
    if (request.kind === "grads") {
      const { loss, grads } = fastLossAndGrads(cfg, cached.layout, params, request.data);
      self.postMessage({ id, loss, grads } satisfies WorkerReply, [grads.buffer as ArrayBuffer]);
    } else {
      const { loss, correct } = fastEval(cfg, cached.layout, params, request.data);
      self.postMessage({ id, loss, correct } satisfies WorkerReply, [
        loss.buffer as ArrayBuffer,
        correct.buffer as ArrayBuffer,
      ]);
    }
  } catch (e) {
    self.postMessage({ id, error: (e as Error).message } satisfies WorkerReply);
  }
};
