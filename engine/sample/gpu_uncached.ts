/**
 * The uncached GPU source: the training model's forward (`buildGpuModel`, every position scored)
 * over one row of n_ctx tokens, run whole at every push; the positions after the sequence hold
 * token 0, which the causal mask keeps from the ones before. The reference the cached GPU source
 * is tested against, and the GPU baseline of `deno task bench --part sample`.
 *
 * @module
 */

import { IGNORE } from "../data/task.ts";
import type { Gpu, GpuTensor } from "../gpu/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { buildGpuModel, type GpuModel } from "../model/gpu_model.ts";
import type { ParamLayout } from "../model/params.ts";
import { checkPush, type TokenModel } from "./source.ts";

/**
 * A `TokenModel` on the GPU that reruns the whole context at each push.
 *
 * @example
 * ```ts ignore
 * const model = await GpuUncachedModel.create(gpu, cfg, layout, params);
 * const logits = await model.push(3); // [U]
 * model.release();
 * ```
 */
export class GpuUncachedModel implements TokenModel {
  readonly nCtx: number;
  readonly #gpu: Gpu;
  readonly #cfg: ModelConfig;
  readonly #model: GpuModel;
  readonly #params: GpuTensor;
  readonly #tokens: Int32Array;
  #length = 0;

  private constructor(gpu: Gpu, cfg: ModelConfig, model: GpuModel, params: GpuTensor) {
    this.nCtx = cfg.n_ctx;
    this.#gpu = gpu;
    this.#cfg = cfg;
    this.#model = model;
    this.#params = params;
    this.#tokens = new Int32Array(cfg.n_ctx);
  }

  /** Uploads `params` and builds the forward of one row of n_ctx positions. */
  static async create(
    gpu: Gpu,
    cfg: ModelConfig,
    layout: ParamLayout,
    params: Float32Array,
  ): Promise<GpuUncachedModel> {
    const uploaded = await gpu.uploadLarge(params);
    const model = await buildGpuModel(gpu, cfg, layout, {
      batch: 1,
      params: uploaded,
      scored: "all",
    });
    gpu.write(model.targets, new Int32Array(cfg.n_ctx).fill(IGNORE));
    return new GpuUncachedModel(gpu, cfg, model, uploaded);
  }

  get length(): number {
    return this.#length;
  }

  async push(token: number): Promise<Float32Array> {
    const U = this.#cfg.d_vocab_out;
    checkPush({ length: this.#length, nCtx: this.nCtx, dVocab: this.#cfg.d_vocab }, token);
    this.#tokens[this.#length++] = token;
    this.#gpu.write(this.#model.tokens, this.#tokens);
    this.#gpu.run(this.#model.forward);
    const last = this.#model.logits.view((this.#length - 1) * U, [U]); // [U] of [C, U]
    const [logits] = await this.#gpu.read([last]);
    return Float32Array.from(logits!.data);
  }

  release(): void {
    this.#model.release();
    this.#params.release();
  }
}
