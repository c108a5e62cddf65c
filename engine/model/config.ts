/**
 * The model's configuration: TransformerLens' `HookedTransformerConfig` field names, so a config
 * saved with a run reads as a TransformerLens user expects and a checkpoint loads into
 * `HookedTransformer(cfg)`. Defaults are the grokking paper's model; each says why.
 *
 * @module
 */

import { ACTIVATIONS } from "../reference/activation.ts";
import { LAYERNORM_EPS } from "../reference/layernorm.ts";
import { checkChoice } from "./choices.ts";

/** The MLP's activation, as TransformerLens names it. */
export type ActFn = "relu" | "gelu" | "gelu_new";

/**
 * The values of `normalization_type`: LayerNorm; TransformerLens' `LNPre`, LayerNorm without its
 * `w` and `b` (what `from_pretrained` leaves once it has folded them into the next weights; an
 * imported model's, not trained here); or none (JSON null, as TransformerLens' None).
 */
export const NORMALIZATION_TYPES = ["LN", "LNPre", null] as const;

/**
 * The values of `positional_embedding_type`, TransformerLens': "standard" adds `W_pos[t]` to the
 * residual stream; "shortformer" adds it only to each layer's query and key inputs (after ln1),
 * never to the residual stream or the values (TransformerLens' `TransformerBlock.forward`).
 */
export const POSITIONAL_EMBEDDING_TYPES = ["standard", "shortformer"] as const;

/** The values of `trainable_biases` (see the field). */
export const TRAINABLE_BIASES = ["all", "mlp"] as const;

/** A transformer's shape and initialisation, in TransformerLens' field names. */
export interface ModelConfig {
  /** 1: one layer is enough for modular addition, and keeps the circuit readable. */
  n_layers: number;
  /** 128: the grokking paper's width. */
  d_model: number;
  /** 32: d_model / n_heads, as usual. */
  d_head: number;
  /** 4: the grokking paper's heads. */
  n_heads: number;
  /** 512: 4 · d_model, as usual. Unused when `attn_only`. */
  d_mlp: number;
  /** 114: p + 1 for modular tasks (the numbers and `=`); set by the task. */
  d_vocab: number;
  /** 113: p; the model only ever predicts a number. Set by the task. */
  d_vocab_out: number;
  /** 3: `[x, y, =]`; set by the task. At most `MAX_N_CTX`. */
  n_ctx: number;
  /** "relu": the grokking paper's; "gelu" is exact, "gelu_new" the tanh form. */
  act_fn: ActFn;
  /** null: the grokking model has no LayerNorm; "LN" before attention, MLP and unembed; "LNPre"
   * as "LN" without `w` and `b` (folded into the weights after it: `mechlab import`'s). */
  normalization_type: typeof NORMALIZATION_TYPES[number];
  /** false: with an MLP. The out-of-context model is attention-only. */
  attn_only: boolean;
  /**
   * 1e-5: what every LayerNorm adds to the variance before the square root (TransformerLens'
   * default and GPT-2's `layer_norm_epsilon`); an imported model takes its file's.
   */
  eps: number;
  /**
   * "standard": learned absolute positions added to the residual stream, as GPT-2. "shortformer"
   * (TransformerLens'; its attention-only models use it): the same learned `W_pos`, added to the
   * queries' and keys' inputs of every layer only, which makes induction heads form readily.
   */
  positional_embedding_type: typeof POSITIONAL_EMBEDDING_TYPES[number];
  /** Standard deviation of every `W_*` at initialisation (TransformerLens' "gpt2" init mode);
   * TransformerLens' default is 0.8 / sqrt(d_model). Biases start at 0, LayerNorm weights at 1. */
  initializer_range: number;
  /** 0: the seed of the initial weights. */
  seed: number;
  /**
   * mechlab's own field (TransformerLens has none): which biases train. "all" as TransformerLens;
   * "mlp" as the grokking paper's model, which has only `b_in` and `b_out`: the other biases stay
   * exactly 0 (they get no gradient), and are still saved so that `HookedTransformer` loads the
   * checkpoint.
   */
  trainable_biases: typeof TRAINABLE_BIASES[number];
}

/**
 * The longest context: 1,024, GPT-2's. The GPU's tiled attention keeps nothing of T × T, so
 * memory is not what limits it; the CPU path's float64 pattern is 8 MiB per head and row there.
 */
export const MAX_N_CTX = 1024;

/** The grokking paper's model for p = 113 (Nanda et al. 2023). */
export const DEFAULT_MODEL: ModelConfig = {
  n_layers: 1,
  d_model: 128,
  d_head: 32,
  n_heads: 4,
  d_mlp: 512,
  d_vocab: 114,
  d_vocab_out: 113,
  n_ctx: 3,
  act_fn: "relu",
  normalization_type: null,
  attn_only: false,
  eps: LAYERNORM_EPS,
  positional_embedding_type: "standard",
  initializer_range: 0.8 / Math.sqrt(128),
  seed: 0,
  trainable_biases: "mlp",
};

/**
 * Checks a config, throwing a `RangeError` whose one-line message names the field and the problem.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL, validateModelConfig } from "./config.ts";
 * validateModelConfig(DEFAULT_MODEL); // passes
 * ```
 */
export function validateModelConfig(cfg: ModelConfig): void {
  const positive = [
    "n_layers",
    "d_model",
    "d_head",
    "n_heads",
    "d_vocab",
    "d_vocab_out",
    "n_ctx",
  ] as const;
  for (const key of positive) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${cfg[key]}`);
    }
  }
  if (cfg.n_ctx > MAX_N_CTX) {
    throw new RangeError(`n_ctx must be at most ${MAX_N_CTX} (GPT-2's context), got ${cfg.n_ctx}`);
  }
  if (!cfg.attn_only && (!Number.isInteger(cfg.d_mlp) || cfg.d_mlp < 1)) {
    throw new RangeError(`d_mlp must be a positive integer, got ${cfg.d_mlp}`);
  }
  checkChoice("act_fn", cfg.act_fn, ACTIVATIONS);
  checkChoice("normalization_type", cfg.normalization_type, NORMALIZATION_TYPES);
  if (!(cfg.eps > 0 && Number.isFinite(cfg.eps))) {
    throw new RangeError(`eps must be a positive number, got ${cfg.eps}`);
  }
  if (!(cfg.initializer_range > 0 && Number.isFinite(cfg.initializer_range))) {
    throw new RangeError(`initializer_range must be positive, got ${cfg.initializer_range}`);
  }
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0) {
    throw new RangeError(`seed must be an integer from 0 to 2^53 - 1, got ${cfg.seed}`);
  }
  checkChoice("trainable_biases", cfg.trainable_biases, TRAINABLE_BIASES);
  if (typeof cfg.attn_only !== "boolean") {
    throw new RangeError(`attn_only must be true or false, got ${cfg.attn_only}`);
  }
  checkChoice(
    "positional_embedding_type",
    cfg.positional_embedding_type,
    POSITIONAL_EMBEDDING_TYPES,
  );
  if (cfg.d_vocab_out > cfg.d_vocab) {
    throw new RangeError(`d_vocab_out ${cfg.d_vocab_out} exceeds d_vocab ${cfg.d_vocab}`);
  }
}
