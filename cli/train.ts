/**
 * `mechlab train`: trains a toy transformer headless from flags into a run folder. A preset gives
 * every setting; flags override it; the resolved configuration is printed first. A progress line
 * is redrawn on a terminal and printed as plain lines otherwise. Ctrl-C or SIGTERM stops after the
 * current step with a checkpoint there, and exits 130 (143 for SIGTERM); `--resume runs/NAME`
 * continues a run to the same result, and `--resume runs/NAME --steps N` extends it.
 *
 * @module
 */

import { dirname } from "node:path";
import meta from "../deno.json" with { type: "json" };
import { DEFAULT_TASKS, TASK_NAMES } from "../engine/data/mod.ts";
import { hasHardwareGpu } from "../engine/gpu/mod.ts";
import {
  defaultPreset,
  defaultRunName,
  type Overrides,
  PRESETS,
  resolveConfig,
} from "../engine/train/presets.ts";
import { freeRunName, type RunConfig, RunInputError } from "../engine/runs/mod.ts";
import { resumeRun, startRun } from "../engine/train/run.ts";
import { parseDevice, parseFlags, parseNumber } from "./args.ts";
import { shownCommand } from "./self_command.ts";
import { UsageError } from "./errors.ts";

/** One flag: where its value goes in the config, its kind, and its help line. */
interface Flag {
  section: "task" | "model" | "train" | "run";
  key: string;
  kind: "int" | "number" | "string" | "bool";
  help: string;
}

/** Every flag of `train`, in the order `--help` lists them; defaults are the grokking preset's. */
const FLAGS: Record<string, Flag> = {
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
    Object.entries(FLAGS).map(([flag, f]) => [flag, String(all[f.key] ?? "")]),
  );
}

function help(): string {
  const d = defaults();
  const width = Math.max(...Object.keys(FLAGS).map((f) => f.length)) + 2;
  const lines = Object.entries(FLAGS).map(([flag, f]) =>
    `  --${flag.padEnd(width)}${f.help}${d[flag] ? ` (default ${d[flag]})` : ""}`
  );
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

/** A flag's value as its kind, or a UsageError naming it. */
function parseValue(flag: string, f: Flag, raw: string | boolean): unknown {
  if (f.kind === "bool" || f.kind === "string") {
    if (f.key === "normalization_type") return raw === "none" || raw === "null" ? null : raw;
    return raw;
  }
  return parseNumber(`--${flag}`, raw as string, f.kind);
}

/** Flags into config overrides and run settings. */
function readFlags(args: string[]) {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map((
      [flag, f],
    ) => [flag, { type: f.kind === "bool" ? "boolean" : "string" }]),
  ) as Record<string, { type: "string" | "boolean" }>;
  const { values } = parseFlags(args, { ...options, help: { type: "boolean", short: "h" } });
  const overrides: Required<Overrides> = { task: {}, model: {}, train: {} };
  const run: Record<string, unknown> = {};
  const given: string[] = [];
  for (const [flag, raw] of Object.entries(values)) {
    const f = FLAGS[flag];
    if (f === undefined || raw === undefined) continue;
    const value = parseValue(flag, f, raw as string | boolean);
    const target = f.section === "run" ? run : overrides[f.section] as Record<string, unknown>;
    target[f.key] = value;
    given.push(flag);
  }
  return { help: values.help === true, overrides, run, given };
}

/** The flags `--resume` takes: the rest of the configuration is the run's own. */
const RESUME_FLAGS = ["resume", "steps", "device"];

/** The resolved configuration, a section a line, as the run starts. */
function describe(config: RunConfig): string {
  const line = (name: string, o: object) =>
    `  ${name.padEnd(6)}${
      Object.entries(o).map(([k, v]) => `${k}=${shown(v)}`)
        .join(" ")
    }`;
  return [
    `mechlab ${config.mechlab_version}, preset ${config.preset}`,
    line("task", config.task),
    line("model", config.model),
    line("train", config.train),
  ].join("\n");
}

/** A config value on the config line: a number to 6 digits, a string with a control character quoted. */
function shown(v: unknown): string {
  if (typeof v === "number") return String(+v.toPrecision(6));
  return typeof v === "string" && /\p{Cc}/u.test(v) ? JSON.stringify(v) : String(v);
}

/** Prints a progress line: redrawn in place on a terminal, a line per evaluation otherwise. */
function progress(config: RunConfig) {
  const tty = Deno.stdout.isTerminal();
  const t0 = performance.now();
  let first: { step: number; time: number } | undefined;
  const encoder = new TextEncoder();
  return (step: number, m: Record<string, number>) => {
    const now = performance.now();
    first ??= { step, time: now };
    const rate = (step - first.step) / Math.max(1e-9, (now - first.time) / 1000);
    const eta = rate > 0 ? (config.train.steps - step) / rate : NaN;
    const text =
      `step ${step}/${config.train.steps} | train loss ${m["train/loss"]?.toExponential(2)}` +
      ` acc ${m["train/acc"]?.toFixed(3)} | test loss ${m["test/loss"]?.toExponential(2)}` +
      ` acc ${m["test/acc"]?.toFixed(3)} | ${rate > 0 ? rate.toFixed(1) : "-"} steps/s` +
      ` | ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : "-"} | ${
        ((now - t0) / 1000).toFixed(1)
      }s`;
    if (tty) Deno.stdout.writeSync(encoder.encode(`\r\x1b[K${text}`));
    else console.log(text);
  };
}

/**
 * Runs `mechlab train` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await train(["--preset", "smoke", "--steps", "100"]);
 * ```
 */
export async function train(args: string[]): Promise<void> {
  const { help: wantHelp, overrides, run, given } = readFlags(args);
  if (wantHelp) return console.log(help());
  const device = parseDevice(run.device as string | undefined);
  const stop = stopOnSignals();
  let total = 0; // the run's steps, once it starts
  let last = -1; // the last step logged: where the run ended
  let report = (_step: number, _m: Record<string, number>) => {};
  const options = {
    device,
    shouldStop: () => stop.signal !== undefined,
    log: (l: string) => console.log(l),
    onStart: (config: RunConfig, step: number) => {
      total = config.train.steps;
      last = step; // a finished run resumed logs nothing more
      report = progress(config);
    },
    onMetrics: (step: number, m: Record<string, number>) => {
      last = step;
      report(step, m);
    },
  };
  try {
    let folder;
    if (typeof run.resume === "string") {
      const extra = given.filter((f) => !RESUME_FLAGS.includes(f));
      if (extra.length > 0) {
        throw new UsageError(
          `--resume takes its configuration from the run: drop --${extra.join(", --")} ` +
            "(only --steps, to extend it, and --device go with --resume)",
        );
      }
      const steps = overrides.train.steps;
      const extend = steps === undefined ? {} : { steps };
      folder = await resumeRun(run.resume, { ...options, ...extend }).catch(rethrowAsUsage);
    } else {
      let preset = run.preset as string | undefined;
      if (preset === undefined) {
        const chosen = defaultPreset(device !== "cpu" && await hasHardwareGpu());
        preset = chosen.name;
        console.log(`no --preset: running '${preset}', ${chosen.why}`);
      }
      let config: RunConfig;
      try {
        config = resolveConfig(preset, overrides, meta.version);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      console.log(describe(config));
      const parent = (run.out as string | undefined) ?? "runs";
      const force = run.force === true;
      // A default name takes a free suffix (-2, -3, ...); a given one is kept, or refused.
      const name = (run.name as string | undefined) ??
        (force ? defaultRunName(config) : await freeRunName(parent, defaultRunName(config)));
      folder = await startRun(config, { parent, name, force }, options).catch(rethrowAsUsage);
    }
    if (Deno.stdout.isTerminal()) console.log();
    if (last < total) {
      console.log(`stopped early at step ${last} of ${total}, with a checkpoint there`);
      console.log(`continue it: ${shownCommand(["train", "--resume", folder.path])}`);
      Deno.exitCode = stop.signal === "SIGTERM" ? 143 : 130;
    } else {
      console.log(`run folder: ${folder.path}`);
      console.log(nextSteps(folder.path));
    }
  } finally {
    stop.remove();
  }
}

/**
 * Listens for Ctrl-C and SIGTERM: the first asks the run to stop after its current step, with a
 * checkpoint; later ones are ignored with a word, so that checkpoint is always written (a process
 * that must die at once can be killed, and resumed from its last checkpoint).
 */
function stopOnSignals() {
  const names: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const state = {
    signal: undefined as Deno.Signal | undefined,
    remove: () => names.forEach((n, i) => Deno.removeSignalListener(n, listeners[i]!)),
  };
  const listeners = names.map((name) => () => {
    if (state.signal !== undefined) {
      console.error("\nalready stopping: writing the checkpoint of this step, then exiting");
      return;
    }
    state.signal = name;
    console.error("\nstopping after this step, with a checkpoint (further Ctrl-C are ignored)");
  });
  names.forEach((n, i) => Deno.addSignalListener(n, listeners[i]!));
  return state;
}

/** What to do with a finished run: the commands that analyse it and show it, as this program. */
function nextSteps(path: string): string {
  const parent = dirname(path);
  const serveArgs = parent === "runs" ? ["serve"] : ["serve", "--runs", parent];
  return [
    "next:",
    `  ${shownCommand(["analyze", "--run", path])}   (analyse its checkpoints)`,
    `  ${shownCommand(serveArgs)}   (see its curves and views in the browser)`,
  ].join("\n");
}

/** Run-folder errors (`RunInputError`) and bad values are the user's to fix: exit 2, one line. */
function rethrowAsUsage(e: unknown): never {
  const err = e as Error;
  if (err instanceof RangeError || err instanceof RunInputError) {
    throw new UsageError(err.message.split("\n")[0]!);
  }
  throw err;
}
