/**
 * How a model trains: optimiser, schedule, evaluation and checkpoint cadence, as one typed object
 * saved verbatim with the run. Defaults are the grokking paper's (Nanda et al. 2023); each says why.
 *
 * @module
 */

import { checkChoice } from "../model/choices.ts";
import { MAX_STEPS } from "../reference/adamw.ts";
import type { GrokfastOptions } from "../reference/grokfast.ts";

/** The values of `schedule` (see the field). */
export const SCHEDULES = ["constant", "cosine"] as const;

/** Training settings. Field names are snake_case as they appear in `config.json` and flags. */
export interface TrainConfig {
  /** 25,000: the grokking run reaches test accuracy 0.99 near step 11,500 and cleans up after. */
  steps: number;
  /** 1e-3: the paper's AdamW learning rate. */
  lr: number;
  /** 1.0: the strong weight decay that makes the model grok rather than memorise. */
  weight_decay: number;
  /** 0.9: AdamW's β1, the paper's. */
  beta1: number;
  /** 0.98: AdamW's β2, the paper's (faster than the usual 0.999 to follow the loss spikes). */
  beta2: number;
  /** 1e-8: PyTorch's default. */
  eps: number;
  /** 10: the paper's linear warmup (PyTorch LambdaLR: the first update has lr 0). */
  warmup_steps: number;
  /** "constant" after warmup, as the paper; "cosine" decays to `min_lr` at `steps`. */
  schedule: typeof SCHEDULES[number];
  /** 0: where a cosine schedule ends. */
  min_lr: number;
  /** 0: no clipping, as the paper; else the max global gradient norm. */
  grad_clip: number;
  /** 0: full batch, as the paper (every training example every step). */
  batch_size: number;
  /** 100: evaluate every 100 steps, as the reference runs, to see the phases of grokking. */
  eval_every: number;
  /** 1,000: a checkpoint every 1,000 steps, enough for progress measures across training. */
  checkpoint_every: number;
  /** 0.98: Grokfast's EMA factor α, the paper's (Lee et al. 2024); used only when λ > 0. */
  grokfast_alpha: number;
  /** 0: Grokfast off, as the grokking paper; the Grokfast paper amplifies with λ = 2 to 5. */
  grokfast_lambda: number;
}

/** The grokking paper's training. */
export const DEFAULT_TRAIN: TrainConfig = {
  steps: 25000,
  lr: 1e-3,
  weight_decay: 1.0,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  warmup_steps: 10,
  schedule: "constant",
  min_lr: 0,
  grad_clip: 0,
  batch_size: 0,
  eval_every: 100,
  checkpoint_every: 1000,
  grokfast_alpha: 0.98,
  grokfast_lambda: 0,
};

/**
 * Checks a training config; a `RangeError` with one line naming the field otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAIN, validateTrainConfig } from "./config.ts";
 * validateTrainConfig(DEFAULT_TRAIN); // passes
 * ```
 */
export function validateTrainConfig(t: TrainConfig): void {
  // Step counts live in the GPU's u32 step counter: at most 2³² - 1.
  const integer = (key: keyof TrainConfig, min: number) => {
    const v = t[key] as number;
    if (!Number.isInteger(v) || v < min || v > MAX_STEPS) {
      throw new RangeError(`${key} must be an integer in [${min}, ${MAX_STEPS}], got ${v}`);
    }
  };
  integer("steps", 1);
  integer("warmup_steps", 0);
  integer("batch_size", 0);
  integer("eval_every", 1);
  integer("checkpoint_every", 1);
  const finite = (key: keyof TrainConfig, ok: (v: number) => boolean, what: string) => {
    const v = t[key] as number;
    if (!Number.isFinite(v) || !ok(v)) throw new RangeError(`${key} must be ${what}, got ${v}`);
  };
  finite("lr", (v) => v > 0, "positive");
  finite("weight_decay", (v) => v >= 0, "non-negative");
  finite("beta1", (v) => v >= 0 && v < 1, "in [0, 1)");
  finite("beta2", (v) => v >= 0 && v < 1, "in [0, 1)");
  finite("eps", (v) => v > 0, "positive");
  finite("min_lr", (v) => v >= 0, "non-negative");
  finite("grad_clip", (v) => v >= 0, "non-negative (0: no clipping)");
  finite("grokfast_alpha", (v) => v >= 0 && v < 1, "in [0, 1)");
  finite("grokfast_lambda", (v) => v >= 0, "non-negative (0: Grokfast off)");
  checkChoice("schedule", t.schedule, SCHEDULES);
  // A cosine decays from the warmup's end to `steps`: it needs steps after the warmup.
  if (t.schedule === "cosine" && t.steps <= t.warmup_steps) {
    throw new RangeError(
      `schedule cosine needs steps > warmup_steps, got steps ${t.steps} and warmup_steps ${t.warmup_steps}`,
    );
  }
}

/**
 * A training config's AdamW settings, in the names the AdamW kernel and its reference take.
 *
 * @example
 * ```ts
 * import { adamwSettings, DEFAULT_TRAIN } from "./config.ts";
 * adamwSettings(DEFAULT_TRAIN).weightDecay; // 1
 * ```
 */
export function adamwSettings(train: TrainConfig) {
  return {
    lr: train.lr,
    beta1: train.beta1,
    beta2: train.beta2,
    eps: train.eps,
    weightDecay: train.weight_decay,
    warmup: train.warmup_steps,
    schedule: train.schedule,
    total: train.steps,
    minLr: train.min_lr,
    maxNorm: train.grad_clip > 0 ? train.grad_clip : undefined,
  } as const;
}

/**
 * A training config's Grokfast filter (`engine/reference/grokfast.ts`), or undefined when it is
 * off (λ = 0): then no EMA is kept, on any device, and none is saved.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAIN, grokfastSettings } from "./config.ts";
 * grokfastSettings(DEFAULT_TRAIN); // undefined
 * grokfastSettings({ ...DEFAULT_TRAIN, grokfast_lambda: 2 }); // { alpha: 0.98, lambda: 2 }
 * ```
 */
export function grokfastSettings(train: TrainConfig): GrokfastOptions | undefined {
  if (train.grokfast_lambda === 0) return undefined;
  return { alpha: train.grokfast_alpha, lambda: train.grokfast_lambda };
}
