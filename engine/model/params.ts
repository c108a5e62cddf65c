/**
 * The model's weights: TransformerLens' names and shapes, laid out in one flat f32 array so one
 * optimizer dispatch updates them all, and initialised as TransformerLens' "gpt2" mode does.
 *
 * Shape letters: V d_vocab, U d_vocab_out, C n_ctx, D d_model, H n_heads, E d_head, M d_mlp.
 *
 * @module
 */

import { Rng, Tensor } from "../tensor/mod.ts";
import type { ModelConfig } from "./config.ts";

/** One weight: its TransformerLens name, shape, and place in the flat array. */
export interface ParamSpec {
  /** e.g. `blocks.0.attn.W_Q`. */
  name: string;
  shape: number[];
  /** Element offset in the flat array: a multiple of `PARAM_ALIGN`. */
  offset: number;
  size: number;
  /** How it starts: normal(0, initializer_range), zeros or ones. */
  init: "normal" | "zeros" | "ones";
  /** Whether it trains: false only for the biases `trainable_biases: "mlp"` holds at 0. */
  trainable: boolean;
}

/**
 * Every weight starts on a 64-element (256-byte) boundary: WebGPU binds a slice of a buffer only at
 * offsets that meet `minStorageBufferOffsetAlignment`, which is at most 256.
 */
export const PARAM_ALIGN = 64;

/** The flat layout of a model's weights. */
export interface ParamLayout {
  specs: ParamSpec[];
  /** Elements in the flat array, padding included. */
  size: number;
  byName: Map<string, ParamSpec>;
}

/**
 * The weights of `cfg` in TransformerLens' `state_dict` order with their shapes.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { paramLayout } from "./params.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * layout.byName.get("blocks.0.attn.W_Q")?.shape; // [4, 128, 32]
 * ```
 */
export function paramLayout(cfg: ModelConfig): ParamLayout {
  const { d_vocab: V, d_vocab_out: U, n_ctx: C, d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const entries: [string, number[], ParamSpec["init"], boolean?][] = [];
  const bias = (name: string, shape: number[]) =>
    entries.push([name, shape, "zeros", cfg.trainable_biases === "all"]);
  const ln = (prefix: string) => {
    if (cfg.normalization_type !== "LN") return;
    entries.push([`${prefix}.w`, [D], "ones"], [`${prefix}.b`, [D], "zeros"]);
  };
  entries.push(["embed.W_E", [V, D], "normal"], ["pos_embed.W_pos", [C, D], "normal"]);
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    ln(`${b}.ln1`);
    entries.push(
      [`${b}.attn.W_Q`, [H, D, E], "normal"],
      [`${b}.attn.W_K`, [H, D, E], "normal"],
      [`${b}.attn.W_V`, [H, D, E], "normal"],
      [`${b}.attn.W_O`, [H, E, D], "normal"],
    );
    bias(`${b}.attn.b_Q`, [H, E]);
    bias(`${b}.attn.b_K`, [H, E]);
    bias(`${b}.attn.b_V`, [H, E]);
    bias(`${b}.attn.b_O`, [D]);
    if (!cfg.attn_only) {
      ln(`${b}.ln2`);
      entries.push(
        [`${b}.mlp.W_in`, [D, M], "normal"],
        [`${b}.mlp.b_in`, [M], "zeros"],
        [`${b}.mlp.W_out`, [M, D], "normal"],
        [`${b}.mlp.b_out`, [D], "zeros"],
      );
    }
  }
  ln("ln_final");
  entries.push(["unembed.W_U", [D, U], "normal"]);
  bias("unembed.b_U", [U]);

  const specs: ParamSpec[] = [];
  let offset = 0;
  for (const [name, shape, init, trainable = true] of entries) {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, size, init, trainable });
    offset += Math.ceil(size / PARAM_ALIGN) * PARAM_ALIGN;
  }
  return { specs, size: offset, byName: new Map(specs.map((s) => [s.name, s])) };
}

/**
 * The number of weights in a layout (its tensors' sizes, without the alignment padding).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { paramCount, paramLayout } from "./params.ts";
 * paramCount(paramLayout(DEFAULT_MODEL)) > 0; // true
 * ```
 */
export function paramCount(layout: ParamLayout): number {
  return layout.specs.reduce((n, spec) => n + spec.size, 0);
}

/**
 * Fresh weights for `cfg`, flat (padding zero): every `W_*` from normal(0, initializer_range)
 * drawn in layout order from the seeded generator, biases 0, LayerNorm weights 1.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout } from "./params.ts";
 * const flat = initParams(DEFAULT_MODEL, paramLayout(DEFAULT_MODEL)); // Float32Array
 * ```
 */
export function initParams(cfg: ModelConfig, layout: ParamLayout): Float32Array {
  const flat = new Float32Array(layout.size);
  const rng = new Rng(cfg.seed);
  for (const spec of layout.specs) {
    const view = flat.subarray(spec.offset, spec.offset + spec.size);
    if (spec.init === "ones") view.fill(1);
    if (spec.init === "normal") {
      for (let i = 0; i < view.length; i++) view[i] = rng.normal() * cfg.initializer_range;
    }
  }
  return flat;
}

/**
 * The named weights of a flat array, as f64 tensors of their TransformerLens shapes.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * unflatten(layout, initParams(DEFAULT_MODEL, layout)).get("unembed.W_U")?.shape; // [128, 113]
 * ```
 */
export function unflatten(layout: ParamLayout, flat: ArrayLike<number>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const spec of layout.specs) {
    const data = new Float64Array(spec.size);
    for (let i = 0; i < spec.size; i++) data[i] = flat[spec.offset + i]!;
    out.set(spec.name, new Tensor(data, spec.shape));
  }
  return out;
}

/**
 * The named weights of a flat f32 array as f32 tensors that share it (no copy): a GPT-2 small's
 * 124M weights held once (0.5 GB), where `unflatten` makes a second, float64 copy (1 GB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, weightViews } from "./params.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const flat = initParams(DEFAULT_MODEL, layout);
 * weightViews(layout, flat).get("embed.W_E")?.data.buffer === flat.buffer; // true
 * ```
 */
export function weightViews(layout: ParamLayout, flat: Float32Array): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const spec of layout.specs) {
    out.set(spec.name, new Tensor(flat.subarray(spec.offset, spec.offset + spec.size), spec.shape));
  }
  return out;
}

/**
 * Throws a `RangeError` naming the first weight of `layout` missing from `weights` or of another
 * shape.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { checkWeights, initParams, paramLayout, unflatten } from "./params.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * checkWeights(layout, unflatten(layout, initParams(DEFAULT_MODEL, layout))); // no error
 * ```
 */
export function checkWeights(layout: ParamLayout, weights: Map<string, Tensor>): void {
  for (const spec of layout.specs) {
    const t = weights.get(spec.name);
    if (t === undefined) throw new RangeError(`missing weight ${spec.name}`);
    if (t.shape.join() !== spec.shape.join()) {
      throw new RangeError(`${spec.name} has shape [${t.shape}], expected [${spec.shape}]`);
    }
  }
}

/**
 * The flat array of named weights (missing names are an error; padding zero), as f32.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { flatten, initParams, paramLayout, unflatten } from "./params.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const flat = initParams(DEFAULT_MODEL, layout);
 * flatten(layout, unflatten(layout, flat)); // equal to flat
 * ```
 */
export function flatten(layout: ParamLayout, weights: Map<string, Tensor>): Float32Array {
  checkWeights(layout, weights);
  const flat = new Float32Array(layout.size);
  for (const spec of layout.specs) flat.set(weights.get(spec.name)!.data, spec.offset);
  return flat;
}
