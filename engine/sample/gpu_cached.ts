/**
 * The cached GPU source: the model's pieces (`engine/model/gpu/`) built once for one row, with
 * each block's attention replaced by a decoding step (`kernels/decode.wgsl`) that appends the new
 * position's k and v to that layer's cache `[n_ctx, H, E]` and attends over the cache. The token
 * and position reach the GPU as 8 bytes (`step`), so every push reruns the same dispatches: O(T)
 * work per token, where the uncached source's is a whole n_ctx forward.
 *
 * Shape letters: C the positions the caches hold (n_ctx unless fewer are asked for), D d_model, H n_heads, E d_head, U d_vocab_out.
 *
 * @module
 */

import type { Gpu, GpuTensor } from "../gpu/mod.ts";
import { decodeAttention, decodeEmbed, decodePositions } from "../../kernels/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import * as attention from "../model/gpu/attention.ts";
import * as block from "../model/gpu/block.ts";
import { ModelContext } from "../model/gpu/context.ts";
import * as layernorm from "../model/gpu/layernorm.ts";
import * as unembed from "../model/gpu/unembed.ts";
import type { ParamLayout } from "../model/params.ts";
import { checkPush, type TokenModel } from "./source.ts";

/** A row of `W_E` by token (a view of the weights) and the one-row table it is copied to. */
interface EmbedRow {
  of: (token: number) => GpuTensor;
  to: GpuTensor;
}

/**
 * A `TokenModel` on the GPU with a key-value cache; `create` builds it over the flat f32 weights.
 *
 * @example
 * ```ts ignore
 * const model = await GpuCachedModel.create(gpu, cfg, layout, params);
 * const logits = await model.push(3); // [U]
 * model.release();
 * ```
 */
export class GpuCachedModel implements TokenModel {
  readonly nCtx: number;
  readonly #gpu: Gpu;
  readonly #cfg: ModelConfig;
  readonly #context: ModelContext;
  readonly #params: GpuTensor;
  readonly #step: GpuTensor;
  readonly #logits: GpuTensor;
  /** Where `W_E` is over the adapter's binding size: its row of `token` and where it is copied. */
  readonly #embedRow: EmbedRow | undefined;
  #length = 0;

  private constructor(
    gpu: Gpu,
    cfg: ModelConfig,
    built: {
      positions: number;
      context: ModelContext;
      params: GpuTensor;
      step: GpuTensor;
      logits: GpuTensor;
      embedRow: EmbedRow | undefined;
    },
  ) {
    this.nCtx = built.positions;
    this.#gpu = gpu;
    this.#cfg = cfg;
    this.#context = built.context;
    this.#params = built.params;
    this.#step = built.step;
    this.#logits = built.logits;
    this.#embedRow = built.embedRow;
  }

  /**
   * Builds the one-row forward with its caches over `params`: flat f32 weights, uploaded, or a
   * GPU tensor `[layout.size]` already there (`uploadCheckpointParams`), the model's from then on
   * (released with it). `positions` (default n_ctx) is how many the caches hold, and so how long
   * the sequence may grow: a caller that knows its prompt and token count asks for no more
   * (GPT-2's caches for 1,024 positions are 75 MiB; on a software adapter, the process's memory).
   */
  static async create(
    gpu: Gpu,
    cfg: ModelConfig,
    layout: ParamLayout,
    params: Float32Array | GpuTensor,
    options: { positions?: number | undefined } = {},
  ): Promise<GpuCachedModel> {
    const C = options.positions ?? cfg.n_ctx;
    if (!Number.isInteger(C) || C < 1 || C > cfg.n_ctx) {
      throw new RangeError(`positions ${C}: expected an integer from 1 to n_ctx ${cfg.n_ctx}`);
    }
    const uploaded = params instanceof Float32Array ? await gpu.uploadLarge(params) : params;
    // One row: B = T = 1; the weights keep their own shapes (W_pos is [C, D]).
    const c = new ModelContext(gpu, {
      cfg: { ...cfg, n_ctx: 1 },
      layout,
      batch: 1,
      params: uploaded,
    });
    const { H, E, D } = c;
    const step = c.fresh([2], "i32"); // [token, pos]
    let resid = c.hook("blocks.0.hook_resid_pre", [1, 1, D]);
    const positions = cfg.positional_embedding_type === "standard";
    // GPT-2's 154 MB W_E is over lavapipe's 128 MiB binding: each push copies its row on the GPU
    // into a one-row table [1, D] the embedding reads (its token clamps to row 0). No CPU
    // copy of W_E: on a software adapter that would be 147 MiB beside the GPU's own.
    const W_E = layout.byName.get("embed.W_E")!;
    const bound = 4 * W_E.size <= gpu.device.limits.maxStorageBufferBindingSize;
    const embedRow = bound ? undefined : {
      of: (token: number) => uploaded.view(W_E.offset + token * D, [1, D]),
      to: c.fresh([1, D]),
    };
    const inputs = {
      step,
      W_E: embedRow?.to ?? c.param("embed.W_E"),
      W_pos: c.param("pos_embed.W_pos"),
    };
    await c.fwd(decodeEmbed(gpu, inputs, resid, { positions }));
    const W_pos = inputs.W_pos;
    if (!positions) {
      // A shortformer's q and k inputs add this step's row of W_pos (attention.qkInput).
      c.positions = c.fresh([1, 1, D]);
      await c.fwd(decodePositions(gpu, { step, W_pos }, c.positions));
    }
    const attend: block.Attend = async (c, name, x) => {
      const { qk, ...qkv } = await attention.projectQkv(c, name, x);
      const z = c.hook(`${name}.attn.hook_z`, [1, 1, H, E]);
      const caches = { kCache: c.fresh([C, H, E]), vCache: c.fresh([C, H, E]) };
      await c.fwd(decodeAttention(gpu, { step, ...qkv }, { ...caches, z }));
      const out = await attention.projectOut(c, name, z);
      return { x, qk, ...qkv, pattern: undefined, lse: undefined, z, out };
    };
    for (let l = 0; l < cfg.n_layers; l++) {
      resid = (await block.forward(c, `blocks.${l}`, resid, attend)).out;
    }
    const final = await layernorm.forward(c, "ln_final", resid);
    const logits = await unembed.forward(c, final.y); // [1, U]
    return new GpuCachedModel(gpu, cfg, {
      positions: C,
      context: c,
      params: uploaded,
      step,
      logits,
      embedRow,
    });
  }

  get length(): number {
    return this.#length;
  }

  async push(token: number): Promise<Float32Array> {
    checkPush({ length: this.#length, nCtx: this.nCtx, dVocab: this.#cfg.d_vocab }, token);
    const pos = this.#length++;
    this.#gpu.write(this.#step, new Int32Array([token, pos]));
    if (this.#embedRow) this.#gpu.copy(this.#embedRow.of(token), this.#embedRow.to);
    this.#gpu.run(this.#context.forward);
    const [logits] = await this.#gpu.read([this.#logits]);
    return Float32Array.from(logits!.data);
  }

  release(): void {
    this.#context.release();
    this.#params.release();
  }
}
