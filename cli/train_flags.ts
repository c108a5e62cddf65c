/**
 * `mechlab train`'s flags: one table saying where each flag's value goes in the run's config, its
 * kind and its help line; `--help`'s text from it; and the parsing of a command line into config
 * overrides. `mechlab sweep` reads the same table, so a sweep takes every train flag, and sweeps
 * them, with train's own checks.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { DEFAULT_TASKS, TASK_NAMES } from "../engine/data/mod.ts";
import { type Overrides, PRESETS, resolveConfig } from "../engine/train/presets.ts";
import { parseFlags, parseNumber } from "./args.ts";

/** One flag: where its value goes in the config, its kind, and its help line. */
export interface Flag {
  section: "task" | "model" | "train" | "run";
  key: string;
  kind: "int" | "number" | "string" | "bool";
  help: string;
}

/**
 * Every flag of `train`, in the order `--help` lists them; defaults are the grokking preset's.
 * `mechlab sweep` takes the same flags, and sweeps its numeric and choice ones.
 *
 * @example
 * ```ts
 * import { TRAIN_FLAGS } from "./train_flags.ts";
 * TRAIN_FLAGS["weight-decay"]!.key; // "weight_decay"
 * ```
 */
export const TRAIN_FLAGS: Record<string, Flag> = {
  preset: { section: "run", key: "preset", kind: "string", help: Object.keys(PRESETS).join(" | ") },
  task: { section: "task", key: "task", kind: "string", help: TASK_NAMES.join(" | ") },
  op: {
    section: "task",
    key: "op",
    kind: "string",
    help: "modular: add sub mul div ssq x2xyy2 x3xy; strings: copy reverse sort regex",
  },
  p: { section: "task", key: "p", kind: "int", help: "the modulus (prime for div)" },
  "frac-train": {
    section: "task",
    key: "frac_train",
    kind: "number",
    help: "train fraction (every task but oocl)",
  },
  "data-seed": { section: "task", key: "data_seed", kind: "int", help: "seed of the split" },
  holdout1: { section: "task", key: "holdout1", kind: "number", help: "oocl: table 1 held out" },
  holdout2: { section: "task", key: "holdout2", kind: "number", help: "oocl: table 2 held out" },
  k1: { section: "task", key: "k1", kind: "number", help: "oocl: loss weight of table 1" },
  k2: { section: "task", key: "k2", kind: "number", help: "oocl: loss weight of table 2" },
  k3: { section: "task", key: "k3", kind: "number", help: "oocl: loss weight of the links" },
  "symmetric-holdout": {
    section: "task",
    key: "symmetric_holdout",
    kind: "bool",
    help: "oocl: hold out both orders of a pair",
  },
  "n-tokens": {
    section: "task",
    key: "n_tokens",
    kind: "int",
    help: "induction: random token ids (<bos>, <pad> aside)",
  },
  "seq-len": {
    section: "task",
    key: "seq_len",
    kind: "int",
    help: "induction: most tokens before the repeat",
  },
  "n-seqs": { section: "task", key: "n_seqs", kind: "int", help: "induction: sequences in pool" },
  "max-len": {
    section: "task",
    key: "max_len",
    kind: "int",
    help: `brackets (strings: ${DEFAULT_TASKS.strings.max_len}): longest string`,
  },
  "n-examples": {
    section: "task",
    key: "n_examples",
    kind: "int",
    help: `brackets (strings: ${DEFAULT_TASKS.strings.n_examples}): distinct strings`,
  },
  alphabet: { section: "task", key: "alphabet", kind: "string", help: "strings: the letters" },
  regex: {
    section: "task",
    key: "regex",
    kind: "string",
    help: "strings: the language of op regex",
  },
  data: { section: "task", key: "data", kind: "string", help: "text: a UTF-8 file to model" },
  "n-ctx": { section: "task", key: "n_ctx", kind: "int", help: "text: characters per window" },
  stride: { section: "task", key: "stride", kind: "int", help: "text: characters between windows" },
  "n-layers": { section: "model", key: "n_layers", kind: "int", help: "layers" },
  "d-model": { section: "model", key: "d_model", kind: "int", help: "residual width" },
  "n-heads": { section: "model", key: "n_heads", kind: "int", help: "heads per layer" },
  "d-head": {
    section: "model",
    key: "d_head",
    kind: "int",
    help: "head width (d_model / n_heads)",
  },
  "d-mlp": { section: "model", key: "d_mlp", kind: "int", help: "MLP width" },
  "act-fn": { section: "model", key: "act_fn", kind: "string", help: "relu | gelu | gelu_new" },
  "normalization-type": {
    section: "model",
    key: "normalization_type",
    kind: "string",
    help: "LN | none",
  },
  "attn-only": { section: "model", key: "attn_only", kind: "bool", help: "no MLPs" },
  "positional-embedding-type": {
    section: "model",
    key: "positional_embedding_type",
    kind: "string",
    help: "standard | shortformer (W_pos in q and k only)",
  },
  "initializer-range": {
    section: "model",
    key: "initializer_range",
    kind: "number",
    help: "std of initial W_*",
  },
  "trainable-biases": {
    section: "model",
    key: "trainable_biases",
    kind: "string",
    help: "all | mlp (the paper's: only b_in, b_out)",
  },
  seed: { section: "model", key: "seed", kind: "int", help: "seed of the initial weights" },
  steps: {
    section: "train",
    key: "steps",
    kind: "int",
    help: "training steps (with --resume: extend the run to this many)",
  },
  lr: { section: "train", key: "lr", kind: "number", help: "AdamW learning rate" },
  "weight-decay": { section: "train", key: "weight_decay", kind: "number", help: "AdamW decay" },
  beta1: { section: "train", key: "beta1", kind: "number", help: "AdamW beta1" },
  beta2: { section: "train", key: "beta2", kind: "number", help: "AdamW beta2" },
  "warmup-steps": { section: "train", key: "warmup_steps", kind: "int", help: "linear warmup" },
  schedule: { section: "train", key: "schedule", kind: "string", help: "constant | cosine" },
  "min-lr": { section: "train", key: "min_lr", kind: "number", help: "where cosine ends" },
  "grad-clip": {
    section: "train",
    key: "grad_clip",
    kind: "number",
    help: "max grad norm (0: off)",
  },
  "batch-size": { section: "train", key: "batch_size", kind: "int", help: "0: full batch" },
  "eval-every": { section: "train", key: "eval_every", kind: "int", help: "steps between evals" },
  "checkpoint-every": {
    section: "train",
    key: "checkpoint_every",
    kind: "int",
    help: "steps between checkpoints",
  },
  "grokfast-alpha": {
    section: "train",
    key: "grokfast_alpha",
    kind: "number",
    help: "Grokfast's EMA factor, in [0, 1)",
  },
  "grokfast-lambda": {
    section: "train",
    key: "grokfast_lambda",
    kind: "number",
    help: "Grokfast's gain on the EMA (0: off; the paper's 2)",
  },
  out: { section: "run", key: "out", kind: "string", help: "parent of run folders" },
  name: { section: "run", key: "name", kind: "string", help: "run name" },
  force: { section: "run", key: "force", kind: "bool", help: "overwrite an existing run folder" },
  resume: {
    section: "run",
    key: "resume",
    kind: "string",
    help: "continue runs/NAME (only --steps and --device go with it)",
  },
  device: { section: "run", key: "device", kind: "string", help: "auto | gpu | cpu" },
};

/** The values `--help` shows: the grokking preset's, and the run flags' defaults. */
function defaults(): Record<string, string> {
  const g = resolveConfig("grokking", {}, meta.version);
  const all: Record<string, unknown> = {
    ...DEFAULT_TASKS.oocl,
    ...DEFAULT_TASKS.induction,
    ...DEFAULT_TASKS.strings,
    ...DEFAULT_TASKS.brackets,
    ...DEFAULT_TASKS.text,
    ...g.task,
    ...g.model,
    normalization_type: g.model.normalization_type ?? "none",
    n_ctx: DEFAULT_TASKS.text.n_ctx, // --n-ctx is the text task's; a model's n_ctx is its task's
    ...g.train,
    preset: "(grokking on a GPU, smoke otherwise)",
    out: "runs",
    name: "(from the task)",
    device: "auto",
    force: false,
    resume: "",
  };
  return Object.fromEntries(
    Object.entries(TRAIN_FLAGS).map(([flag, f]) => [flag, String(all[f.key] ?? "")]),
  );
}

/**
 * `--help`'s lines for `flags`: each flag, its help and its default (`train`'s, for a train flag),
 * padded to `width`.
 *
 * @example
 * ```ts
 * import { flagLines, TRAIN_FLAGS } from "./train_flags.ts";
 * flagLines({ lr: TRAIN_FLAGS.lr! }, 4)[0]; // "  --lr    AdamW learning rate (default 0.001)"
 * ```
 */
export function flagLines(flags: Record<string, { help: string }>, width: number): string[] {
  const d = defaults();
  return Object.entries(flags).map(([flag, f]) =>
    `  --${flag.padEnd(width)}${f.help}${d[flag] ? ` (default ${d[flag]})` : ""}`
  );
}

/** The widest of train's flags, plus two: where `--help` starts the help text. */
export const FLAG_WIDTH = Math.max(...Object.keys(TRAIN_FLAGS).map((f) => f.length)) + 2;

/**
 * `mechlab train --help`.
 *
 * @example
 * ```ts
 * import { trainHelp } from "./train_flags.ts";
 * trainHelp().startsWith("mechlab train [flags]"); // true
 * ```
 */
export function trainHelp(): string {
  const width = FLAG_WIDTH;
  const lines = flagLines(TRAIN_FLAGS, width);
  return [
    "mechlab train [flags]",
    "",
    "Trains a toy transformer into runs/NAME: config.json, split.json, metrics.jsonl and",
    "TransformerLens-named safetensors checkpoints. A preset sets everything; flags override it.",
    `Presets: ${Object.entries(PRESETS).map(([n, p]) => `${n} (${p.why})`).join("; ")}.`,
    "",
    "flags (defaults are the grokking preset's, and other tasks' for their own flags):",
    ...lines,
    `  ${"-h, --help".padEnd(width + 2)}this help`,
  ].join("\n");
}

/**
 * A flag's value as its kind (a number for `int` and `number`, `null` for `--normalization-type
 * none`), or a `UsageError` naming it.
 *
 * @example
 * ```ts
 * import { parseFlagValue, TRAIN_FLAGS } from "./train_flags.ts";
 * parseFlagValue("weight-decay", TRAIN_FLAGS["weight-decay"]!, "0.3"); // 0.3
 * ```
 */
export function parseFlagValue(flag: string, f: Flag, raw: string | boolean): unknown {
  if (f.kind === "bool" || f.kind === "string") {
    if (f.key === "normalization_type") return raw === "none" || raw === "null" ? null : raw;
    return raw;
  }
  return parseNumber(`--${flag}`, raw as string, f.kind);
}

/** What `readTrainFlags` gives: the config overrides, the run's settings and the flags given. */
export interface TrainFlags {
  help: boolean;
  overrides: Required<Overrides>;
  /** The `run` section's flags (`preset`, `out`, `name`, `force`, `resume`, `device`) by key. */
  run: Record<string, unknown>;
  /** The train flags given, by name. */
  given: string[];
  /** Every parsed value, `extra`'s flags included, as `parseFlags` returns them. */
  values: Record<string, string | boolean | undefined>;
}

/**
 * Train's flags (and `extra`'s, a command's own: `sweep`'s) into config overrides and run
 * settings; a bad value is a `UsageError` naming its flag.
 *
 * @example
 * ```ts
 * import { readTrainFlags } from "./train_flags.ts";
 * const f = readTrainFlags(["--preset", "smoke", "--lr", "0.01"]);
 * f.overrides.train.lr; // 0.01
 * f.run.preset; // "smoke"
 * ```
 */
export function readTrainFlags(
  args: string[],
  extra: Record<string, { type: "string" | "boolean" }> = {},
): TrainFlags {
  const options = Object.fromEntries(
    Object.entries(TRAIN_FLAGS).map((
      [flag, f],
    ) => [flag, { type: f.kind === "bool" ? "boolean" : "string" }]),
  ) as Record<string, { type: "string" | "boolean" }>;
  const { values } = parseFlags(args, {
    ...options,
    ...extra,
    help: { type: "boolean", short: "h" },
  });
  const overrides: Required<Overrides> = { task: {}, model: {}, train: {} };
  const run: Record<string, unknown> = {};
  const given: string[] = [];
  for (const [flag, raw] of Object.entries(values)) {
    const f = TRAIN_FLAGS[flag];
    if (f === undefined || raw === undefined) continue;
    const value = parseFlagValue(flag, f, raw as string | boolean);
    const target = f.section === "run" ? run : overrides[f.section] as Record<string, unknown>;
    target[f.key] = value;
    given.push(flag);
  }
  return { help: values.help === true, overrides, run, given, values };
}
