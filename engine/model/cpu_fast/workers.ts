/**
 * The fast CPU model on every core: a pool of Deno Workers, each running `fastLossAndGrads` on a
 * contiguous shard of the batch's rows. The loss is a weighted sum over rows, so the batch's loss
 * and gradients are the sums of the shards' (added in worker order: the same bits every run).
 *
 * Splitting the batch rather than each product keeps one message per worker per step (the weights
 * out, the gradients back, about 3 MiB each at `tinygpt`'s size) and lets each worker's products
 * stay whole; a batch with fewer rows than workers leaves the rest idle.
 *
 * @module
 */

import type { ModelConfig } from "../config.ts";
import type { FastEval } from "./eval.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** One batch: `tokens [B, T]`, `targets [B, T]` (IGNORE = -1 where unscored), `rowWeights [B]`. */
export interface FastBatch {
  tokens: Int32Array;
  targets: Int32Array;
  rowWeights: Float64Array;
  batch: number;
}

/**
 * A pool of `count` workers (default: one per core) that computes the loss and gradients of a
 * batch, or evaluates it, split by rows.
 *
 * @example
 * ```ts ignore
 * import { CpuWorkers } from "./workers.ts";
 * const pool = new CpuWorkers();
 * const { loss, grads } = await pool.lossAndGrads(cfg, params, batch);
 * pool.close();
 * ```
 */
export class CpuWorkers {
  #workers: Worker[];
  #next = 0;
  #pending = new Map<number, { worker: Worker; resolve: (r: WorkerReply) => void }>();

  constructor(count: number = navigator.hardwareConcurrency) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`workers must be a positive integer, got ${count}`);
    }
    this.#workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const waiting = this.#pending.get(event.data.id);
        this.#pending.delete(event.data.id);
        waiting?.resolve(event.data);
      };
      // A worker that cannot load or throws outside a request (a compiled binary built without
      // `--include` of worker.ts): every request waiting on it fails with the reason, none hangs.
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        for (const [id, waiting] of this.#pending) {
          if (waiting.worker !== worker) continue;
          this.#pending.delete(id);
          waiting.resolve({ id, error: `cpu_fast worker: ${event.message}` });
        }
      };
      return worker;
    });
  }

  /** How many workers the pool has. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * The batch's loss `Σ_{r, t scored} rowWeights[r] · CE(r, t)` and its gradient, flat in
   * `paramLayout(cfg)` (as `fastLossAndGrads`).
   */
  async lossAndGrads(
    cfg: ModelConfig,
    params: Float32Array,
    batch: FastBatch,
  ): Promise<{ loss: number; grads: Float32Array }> {
    const replies = await this.#scatter(
      batch.batch,
      batch.tokens.length / batch.batch,
      (r0, r1, T) => ({
        id: this.#next++,
        kind: "grads",
        cfg,
        params,
        data: {
          tokens: batch.tokens.slice(r0 * T, r1 * T),
          targets: batch.targets.slice(r0 * T, r1 * T),
          rowWeights: batch.rowWeights.slice(r0, r1),
          batch: r1 - r0,
        },
      }),
    );
    let loss = 0;
    let grads: Float32Array | undefined;
    for (const reply of replies) {
      if (!("grads" in reply)) {
        throw new Error("cpu_fast worker: a gradient request got no gradients");
      }
      loss += reply.loss;
      if (grads === undefined) grads = reply.grads;
      else for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! + reply.grads[i]!;
    }
    return { loss, grads: grads! };
  }

  /**
   * The loss and correctness at every position (as `fastEval`), the rows split among the workers.
   */
  async eval(
    cfg: ModelConfig,
    params: Float32Array,
    batch: Omit<FastBatch, "rowWeights">,
  ): Promise<FastEval> {
    const B = batch.batch;
    const T = batch.tokens.length / B;
    const replies = await this.#scatter(B, T, (r0, r1) => ({
      id: this.#next++,
      kind: "eval",
      cfg,
      params,
      data: {
        tokens: batch.tokens.slice(r0 * T, r1 * T),
        targets: batch.targets.slice(r0 * T, r1 * T),
        batch: r1 - r0,
      },
    }));
    const out = { loss: new Float64Array(B * T), correct: new Float64Array(B * T) };
    let at = 0;
    for (const reply of replies) {
      if (!("correct" in reply)) throw new Error("cpu_fast worker: an eval request got no eval");
      out.loss.set(reply.loss, at);
      out.correct.set(reply.correct, at);
      at += reply.loss.length;
    }
    return out;
  }

  /** One request per worker, each for a contiguous shard `[r0, r1)` of the B rows; in order. */
  async #scatter(
    B: number,
    T: number,
    request: (r0: number, r1: number, T: number) => WorkerRequest,
  ): Promise<WorkerReply[]> {
    const shards = Math.min(this.#workers.length, B);
    const replies = await Promise.all(
      Array.from({ length: shards }, (_, w) => {
        const [r0, r1] = [Math.floor((w * B) / shards), Math.floor(((w + 1) * B) / shards)];
        return this.#ask(this.#workers[w]!, request(r0, r1, T));
      }),
    );
    for (const reply of replies) if ("error" in reply) throw new RangeError(reply.error);
    return replies;
  }

  /** Ends every worker; the pool cannot be used after. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }

  #ask(worker: Worker, request: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.#pending.set(request.id, { worker, resolve });
      worker.postMessage(request);
    });
  }
}
