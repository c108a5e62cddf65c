/**
 * The uncached CPU source: every push runs the f32 model (`engine/model/cpu_fast/`) over the
 * whole sequence so far and keeps the last position's logits, so the k-th token costs O(k²)
 * in attention and O(k) in everything else. The reference the cached source is tested against,
 * and the baseline of `deno task bench --part sample`.
 *
 * @module
 */

import type { ModelConfig } from "../model/config.ts";
import { forwardPass, viewOf } from "../model/cpu_fast/model.ts";
import type { ParamLayout } from "../model/params.ts";
import { checkPush, type TokenModel } from "./source.ts";

/**
 * A `TokenModel` over the flat f32 weights `params` that recomputes everything at each push.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout } from "../model/params.ts";
 * import { CpuUncachedModel } from "./cpu_uncached.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const model = new CpuUncachedModel(DEFAULT_MODEL, layout, initParams(DEFAULT_MODEL, layout));
 * model.push(3).length; // 113
 * ```
 */
export class CpuUncachedModel implements TokenModel {
  readonly nCtx: number;
  readonly #cfg: ModelConfig;
  readonly #W: (name: string) => Float32Array;
  readonly #tokens: Int32Array;
  #length = 0;

  constructor(cfg: ModelConfig, layout: ParamLayout, params: Float32Array) {
    this.nCtx = cfg.n_ctx;
    this.#cfg = cfg;
    this.#W = (name) => viewOf(layout, params, name);
    this.#tokens = new Int32Array(cfg.n_ctx);
  }

  get length(): number {
    return this.#length;
  }

  push(token: number): Float32Array {
    const cfg = this.#cfg;
    checkPush({ length: this.#length, nCtx: this.nCtx, dVocab: cfg.d_vocab }, token);
    this.#tokens[this.#length++] = token;
    const T = this.#length;
    const dims = { B: 1, T, H: cfg.n_heads, E: cfg.d_head };
    const { logits } = forwardPass(cfg, this.#W, this.#tokens.subarray(0, T), dims); // [T, U]
    return logits.slice((T - 1) * cfg.d_vocab_out);
  }

  release(): void {}
}
