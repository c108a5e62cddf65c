/**
 * A run's whole configuration (task, model, training), the presets it starts from, and how flags
 * override a preset. Saved verbatim as the run's `config.json`.
 *
 * @module
 */

import {
  buildTask,
  DEFAULT_TASKS,
  isTaskName,
  savedTask,
  TASK_NAMES,
  type TaskConfig,
} from "../data/mod.ts";
import type { RunConfig } from "../runs/mod.ts";
import { DEFAULT_MODEL, type ModelConfig, validateModelConfig } from "../model/config.ts";
import { DEFAULT_TRAIN, type TrainConfig, validateTrainConfig } from "./config.ts";

/** What flags can change: any field of each part. */
export interface Overrides {
  task?: Partial<TaskConfig>;
  model?: Partial<ModelConfig>;
  train?: Partial<TrainConfig>;
}

/** A named starting point; `why` is printed when the preset is chosen for the user. */
interface Preset {
  why: string;
  task: TaskConfig;
  model: Partial<ModelConfig>;
  train: Partial<TrainConfig>;
}

/**
 * The brackets and strings presets' model and training. Two layers: for brackets the first can
 * average `(` against `)` over each prefix (its height, and whether it went below zero) and the
 * second gather both at `<end>` (ARENA's bidirectional model has three); for strings they find,
 * for each answer position, the input position it mirrors or the letters counted before it.
 * LayerNorm, GELU and initial weights of std 0.02 as GPT-2; d_model 64 and 4 heads of 16: small
 * and quick on a 2-core CPU. Minibatches of 64 strings at lr 1e-3, 50 warmup steps and a cosine
 * decay to 1e-4, clipping at 1 (the usual small-transformer recipe); weight decay 0.01, since
 * nothing here needs grokking's strong decay. 600 steps: brackets and reverse passed 0.99 on
 * held-out strings by step 200, sort by 400 (bench/RESULTS.md). Evaluation (every string, on the
 * float64 model) costs as much as 100 steps at these sizes, so only every 200.
 */
const SMALL_SEQUENCE = {
  model: {
    n_layers: 2,
    d_model: 64,
    n_heads: 4,
    d_head: 16,
    d_mlp: 256,
    act_fn: "gelu",
    normalization_type: "LN",
    initializer_range: 0.02,
    trainable_biases: "all",
  },
  train: {
    steps: 600,
    lr: 1e-3,
    weight_decay: 0.01,
    warmup_steps: 50,
    schedule: "cosine",
    min_lr: 1e-4,
    grad_clip: 1,
    batch_size: 64,
    eval_every: 200,
    checkpoint_every: 200,
  },
} satisfies Pick<Preset, "model" | "train">;

/** The presets `--preset` names. */
export const PRESETS = {
  /** Nanda et al. 2023: (x + y) mod 113, 30% train, one layer, full batch, 10-step warmup. */
  grokking: {
    why: "the canonical grokking run (Nanda et al. 2023), minutes on a GPU",
    task: { ...DEFAULT_TASKS.modular, data_seed: 598 },
    model: { initializer_range: 1 / Math.sqrt(128) }, // the paper code's randn / sqrt(d_model)
    train: {},
  },
  /** ancri/mechinterp's reference configuration of the out-of-context experiment. */
  oocl: {
    why: "the out-of-context experiment's reference configuration (2-layer attention-only)",
    task: DEFAULT_TASKS.oocl,
    model: {
      n_layers: 2,
      attn_only: true,
      d_model: 128,
      n_heads: 4,
      d_head: 128,
      normalization_type: "LN",
      act_fn: "gelu",
      trainable_biases: "all",
    },
    train: {
      steps: 50000,
      lr: 1.4e-3,
      weight_decay: 0.1,
      grad_clip: 1.0,
      warmup_steps: 1000,
      batch_size: 256,
      eval_every: 500,
      checkpoint_every: 5000,
    },
  },
  /**
   * Small enough to grok in under a minute on a 2-core CPU: torch_small.py's model (p = 23, half
   * the pairs, d_model 64, d_mlp 256) at lr 1e-2. At its lr 3e-3, grokking at p = 23 hangs on
   * the split: PyTorch's seed-598 split groks by step 1,600, its seed-1 split not in 3,000, and
   * ours (same seeds, another generator) not in 2,500. At 1e-2 this split and initialisation,
   * identical on every machine, reach test accuracy 0.95 at step 350.
   *
   * A checkpoint at every evaluation (50 steps): the run memorises by step 50 and its test loss
   * falls from 10 to 0.02 between steps 50 and 350, so sparser checkpoints would miss grokking
   * (at 500 every one was after it). 31 checkpoints of 220 kB; `analyze` takes 0.3 s each.
   */
  smoke: {
    why: "small enough to grok within minutes on a CPU or a software GPU adapter",
    task: { ...DEFAULT_TASKS.modular, p: 23, frac_train: 0.5, data_seed: 598 },
    model: { d_model: 64, n_heads: 4, d_head: 16, d_mlp: 256, initializer_range: 1 / 8 },
    train: { steps: 1500, lr: 1e-2, warmup_steps: 0, eval_every: 50, checkpoint_every: 50 },
  },
  /**
   * Induction heads on repeated random tokens (Olsson et al. 2022) in minutes on a 2-core CPU: a
   * previous-token head in layer 0 and an induction head in layer 1 that reads it, with the loss
   * plateau and the sudden drop between (bench/RESULTS.md, issue 12).
   */
  induction: {
    why: "induction heads forming in a 2-layer attention-only model, minutes on a CPU",
    task: DEFAULT_TASKS.induction,
    model: {
      // The model Olsson et al. study: attention only, 2 layers, so induction needs K-composition.
      n_layers: 2,
      attn_only: true,
      // LayerNorm before each attention layer and the unembedding, as Olsson et al.'s and
      // TransformerLens' attention-only models (issue 12 asks for it). It needs the small initial
      // weights below: from std 0.1 layer 0's previous-token attention stayed blurred (0.33).
      normalization_type: "LN",
      // Wide enough for 20 tokens and 41 positions; small enough for ~5 steps/s on two cores.
      d_model: 64,
      // Two heads a layer: with four (and LayerNorm), layer 0's previous-token attention was split
      // over all four (0.29, 0.20, 0.21, 0.17 on the detector); with one, layer 0 made no
      // previous-token head.
      n_heads: 2,
      d_head: 32,
      // GPT-2's 0.02, not TransformerLens' 0.8 / sqrt(d_model) = 0.1. With LayerNorm from 0.1,
      // layer 0's best previous-token score stopped at 0.33 by step 1,500 (attention blurred over
      // the token, one back and two back; the same with shortformer positions, and in an
      // independent PyTorch model from the same weights, bench/torch_induction.py). From 0.02 the
      // bump comes at steps 100 to 250 and the previous-token head keeps sharpening after it:
      // 0.84, 0.58 and 0.85 at step 1,500 on seeds 0, 1 and 3; seed 2 made no induction head at
      // all (bench/RESULTS.md), where without LayerNorm (std 0.1) three seeds of three did. From
      // 0.05 seed 2 made one but layer 0 stayed blurred (0.41).
      initializer_range: 0.02,
      // Every bias trained, as in TransformerLens' models (the grokking paper's "mlp" suits its
      // task only).
      trainable_biases: "all",
    },
    train: {
      // The bump is at steps ~100 to 250 and the induction head passes 0.5 at step ~200; the
      // previous-token head passes 0.5 only at step ~700 (seed 0) and is still rising at 1,500.
      steps: 1500,
      // Chosen without LayerNorm and kept (not tuned again with it): at 1e-3 (with LayerNorm, std
      // 0.1) the bump came at step ~500, at 3e-3 ~250; without LayerNorm 3e-3 left one seed of
      // three at 0.497 on the induction detector at step 1,500, and 4e-3 sharpened both heads sooner.
      lr: 4e-3,
      // Little decay: the circuit is small and the run short (0.1 changed nothing by step 800).
      weight_decay: 0.01,
      // A short linear warmup, usual for Adam at this learning rate (not tuned).
      warmup_steps: 100,
      // 64 sequences × 40 scored positions ≈ 2,500 targets a step: smooth enough, fast on a CPU.
      batch_size: 64,
      // Evaluation runs all 4,000 rows on the float64 model (seconds): every 100 steps.
      eval_every: 100,
      // A checkpoint every 50 steps, so `analyze` resolves the bump (it lasts ~100 steps).
      checkpoint_every: 50,
    },
  },
  /**
   * Balanced brackets (ARENA 1.5.1), causal, answered at `<end>`: 8,000 strings up to 20 long (22
   * tokens). A run of 2,000 steps was at test accuracy 0.999 by step 250 and 1.000 from 500.
   */
  brackets: {
    why: "balanced-brackets classification (ARENA 1.5.1, causal), minutes on a CPU",
    task: DEFAULT_TASKS.brackets,
    ...SMALL_SEQUENCE,
  },
  /**
   * String manipulation (reverse by default; copy, sort, regex with --op): 3,000 strings of up to
   * 8 letters of "abcd" (19 tokens).
   */
  strings: {
    why: "reversing strings (or copy, sort, regex with --op), minutes on a CPU",
    task: DEFAULT_TASKS.strings,
    ...SMALL_SEQUENCE,
  },
  /**
   * A tiny GPT-2 on characters (the seed "code your own tiny GPT-2"), on the committed corpus of
   * fixtures/make_corpus.py unless --data names another file: 4 layers, d_model 128, 4 heads of 32,
   * d_mlp 512 (4 · d_model, as GPT-2), GELU, LayerNorm and initial std 0.02 as GPT-2, n_ctx 128
   * (the task's windows; a sentence of the corpus is about 30 characters, so a window holds four).
   * nanoGPT's shakespeare_char recipe, smaller: lr 1e-3 after 50 warmup steps with a cosine decay
   * to 1e-4, clipping at 1, weight decay 0.1, minibatches of 16 windows (2,048 tokens a step).
   * 800 steps (bench/RESULTS.md): the test loss is lowest near step 400 (0.59 nats; the corpus'
   * unigram entropy is 3.09) and rises to 0.70 by 800 as the model memorises the 51 kB of training
   * text (train 0.31), while its greedy lines that are sentences of the grammar go from 60% to 81%;
   * a longer corpus (make_corpus.py's SENTENCES) would serve both. An evaluation scores all 445
   * windows on the float64 model (about as long as 30 steps), so every 400.
   */
  tinygpt: {
    why: "a 4-layer character-level GPT on a text file (--data; the committed corpus by default)",
    task: DEFAULT_TASKS.text,
    model: {
      n_layers: 4,
      d_model: 128,
      n_heads: 4,
      d_head: 32,
      d_mlp: 512,
      act_fn: "gelu",
      normalization_type: "LN",
      initializer_range: 0.02,
      trainable_biases: "all",
    },
    train: {
      steps: 800,
      lr: 1e-3,
      weight_decay: 0.1,
      warmup_steps: 50,
      schedule: "cosine",
      min_lr: 1e-4,
      grad_clip: 1,
      batch_size: 16,
      eval_every: 400,
      checkpoint_every: 200,
    },
  },
} satisfies Record<string, Preset>;

/** A preset's name. */
export type PresetName = keyof typeof PRESETS;

/** The preset a bare `train` runs: the grokking run on a GPU, `smoke` on a CPU or software one. */
export function defaultPreset(hardwareGpu: boolean): { name: PresetName; why: string } {
  const name = hardwareGpu ? "grokking" : "smoke";
  return {
    name,
    why: `${PRESETS[name].why}; chosen because this machine ${
      hardwareGpu ? "has a GPU" : "has no hardware GPU"
    }`,
  };
}

/**
 * A preset with flags applied: the task's fields over the preset's (or, if the flags name another
 * task, over that task's defaults), then the model's sizes from the task, then checks.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./presets.ts";
 * const cfg = resolveConfig("smoke", { train: { steps: 100 } }, "0.1.0");
 * cfg.model.d_vocab; // 24: p + 1 for p = 23
 * ```
 */
export function resolveConfig(
  preset: string,
  overrides: Overrides,
  version: string,
): RunConfig {
  if (!(preset in PRESETS)) {
    throw new RangeError(`unknown preset '${preset}' (${Object.keys(PRESETS).join(", ")})`);
  }
  const base: Preset = PRESETS[preset as PresetName];
  const taskName = overrides.task?.task ?? base.task.task;
  if (!isTaskName(taskName)) {
    throw new RangeError(`unknown task '${taskName}' (${TASK_NAMES.join(", ")})`);
  }
  const taskBase = taskName === base.task.task ? base.task : DEFAULT_TASKS[taskName];
  for (const key of Object.keys(overrides.task ?? {})) {
    if (!(key in taskBase)) {
      throw new RangeError(`--${key.replaceAll("_", "-")}: not a setting of task ${taskName}`);
    }
  }
  const given = { ...taskBase, ...overrides.task, task: taskName } as TaskConfig;
  const data = buildTask(given);
  const task = savedTask(given, data);
  const m = overrides.model ?? {};
  const shape: Partial<ModelConfig> = { ...DEFAULT_MODEL, ...base.model, ...m };
  // d_head follows d_model / n_heads when either is given and d_head is not, as a user expects.
  // A width that is not a positive integer is left for validateModelConfig to name.
  const [dModel, nHeads] = [shape.d_model!, shape.n_heads!];
  const widths = [dModel, nHeads].every((n) => Number.isInteger(n) && n > 0);
  if (m.d_head === undefined && (m.d_model !== undefined || m.n_heads !== undefined) && widths) {
    if (dModel % nHeads !== 0) {
      throw new RangeError(
        `d_model ${dModel} is not divisible by n_heads ${nHeads}; give d_head too`,
      );
    }
    shape.d_head = dModel / nHeads;
  }
  const model: ModelConfig = {
    ...(shape as ModelConfig),
    d_vocab: data.vocab.d_vocab,
    d_vocab_out: data.vocab.d_vocab_out,
    n_ctx: data.n_ctx,
  };
  validateModelConfig(model);
  const train: TrainConfig = { ...DEFAULT_TRAIN, ...base.train, ...overrides.train };
  validateTrainConfig(train);
  return { mechlab_version: version, preset: preset as PresetName, task, model, train };
}

/**
 * The name a run of this config gets unless one is given: its task's (`modular_add_113`, or the
 * out-of-context experiment's `oocl_{op}_{p}_{h1}_{h2}_{k1}_{k2}_{k3}`). The command line and the
 * server both name runs by it.
 *
 * @example
 * ```ts
 * import { defaultRunName, resolveConfig } from "./presets.ts";
 * defaultRunName(resolveConfig("smoke", {}, "0.1.0")); // "modular_add_23"
 * ```
 */
export function defaultRunName(config: RunConfig): string {
  return buildTask(config.task).runName;
}
