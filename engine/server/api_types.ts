/**
 * The shapes `mechlab serve`'s API sends and takes, one definition for the server and the page:
 * the server's handlers build them and `ui/` reads them (`import type` only, so the page's bundle
 * takes nothing from here). The analysis endpoints send the shapes of `../analysis/report.ts`.
 *
 * @module
 */

import type { TaskConfig } from "../data/task_config.ts";
import type { Device } from "../gpu/pick_device.ts";
import type { ModelConfig } from "../model/config.ts";
import type { TrainConfig } from "../train/config.ts";
import type { Overrides } from "../train/presets.ts";

/**
 * One line of a run's `metrics.jsonl`: `step`, `lr`, `time_s`, `train/loss`, `test/acc`, and for
 * `oocl` runs the per-group keys (`train/loss_table1`, ...). `null` where the run logged NaN.
 *
 * @example
 * ```ts
 * import type { MetricsRecord } from "./api_types.ts";
 * const line: MetricsRecord = { step: 50, "train/loss": 0.19, "test/acc": null };
 * ```
 */
export type MetricsRecord = { step: number } & Record<string, number | null>;

/**
 * A run's status: `running` (a child of this server, alive), `finished` (reached its steps),
 * `stopped` (anything else).
 *
 * @example
 * ```ts
 * import type { RunStatus } from "./api_types.ts";
 * const s: RunStatus = "running";
 * ```
 */
export type RunStatus = "running" | "finished" | "stopped" | "imported";

/**
 * One row of `GET /api/runs` (and of the `runs` event).
 *
 * @example
 * ```ts
 * import type { RunSummary } from "./api_types.ts";
 * const run: RunSummary = {
 *   name: "modular_add_23", task: "modular", preset: "smoke", status: "finished",
 *   step: 1500, steps: 1500, metrics: { step: 1500, "test/acc": 1 }, started: "2026-11-20T10:00:00Z",
 * };
 * ```
 */
export interface RunSummary {
  name: string;
  /** `config.task.task`: "modular" or "oocl". */
  task: string;
  preset: string;
  status: RunStatus;
  /** The last metrics line's step; 0 before the first. */
  step: number;
  /** `config.train.steps`. */
  steps: number;
  /** The last metrics line; `{}` before the first. */
  metrics: Record<string, number | null>;
  /** ISO time `config.json` was written. */
  started: string;
  /** A model `mechlab import` wrote (status "imported"): its source folder's name and its weights' count. */
  imported?: { source: string; n_params: number };
}

/**
 * The data of a `metrics` event on `GET /api/events`: a run's new metrics lines.
 *
 * @example
 * ```ts
 * import type { MetricsEvent } from "./api_types.ts";
 * const e: MetricsEvent = { name: "modular_add_23", records: [{ step: 50, "train/loss": 0.2 }] };
 * ```
 */
export interface MetricsEvent {
  name: string;
  records: MetricsRecord[];
}

/**
 * One entry of `GET /api/runs/NAME/checkpoints`.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./api_types.ts";
 * const c: Checkpoint = { step: 500, file: "step_000500.safetensors" };
 * ```
 */
export interface Checkpoint {
  step: number;
  file: string;
}

/**
 * One preset as `GET /api/presets` lists it: why it exists, and the config it trains (what it sets
 * over the defaults, resolved).
 *
 * @example
 * ```ts
 * import type { Preset } from "./api_types.ts";
 * import { resolveConfig } from "../train/presets.ts";
 * const { task, model, train } = resolveConfig("smoke", {}, "");
 * const smoke: Preset = { why: "small", task, model, train };
 * ```
 */
export interface Preset {
  why: string;
  task: TaskConfig;
  model: ModelConfig;
  train: TrainConfig;
}

/** A value a launch may choose: JSON's `null` stands for "none" (`normalization_type`). */
export type Choice = string | null;

/**
 * `GET /api/presets`: the presets by name, the one a bare `mechlab train` picks on this machine,
 * and the values allowed for each config field whose value is a choice (the launch form offers
 * them, and a `POST /api/runs` with another is a 400).
 *
 * @example
 * ```ts
 * import type { PresetsAnswer } from "./api_types.ts";
 * const answer: PresetsAnswer = {
 *   default: "smoke",
 *   why: "small enough to grok within minutes; chosen because this machine has no hardware GPU",
 *   presets: {},
 *   choices: {
 *     task: { task: ["modular", "oocl"], op: ["add", "sub"] },
 *     model: { act_fn: ["relu"], normalization_type: ["LN", null], trainable_biases: ["all", "mlp"] },
 *     train: {},
 *     device: ["auto", "gpu", "cpu"],
 *   },
 * };
 * ```
 */
export interface PresetsAnswer {
  /** The preset a bare `mechlab train` runs here: `grokking` on a hardware GPU, else `smoke`. */
  default: string;
  /** Why that one, as `train` says it. */
  why: string;
  presets: Record<string, Preset>;
  choices: {
    task: Record<string, Choice[]>;
    model: Record<string, Choice[]>;
    train: Record<string, Choice[]>;
    /** The request's `device`. */
    device: Device[];
  };
}

/**
 * The body of `POST /api/runs`: a preset, the config fields that override it, an optional name
 * and device.
 *
 * @example
 * ```ts
 * import type { LaunchRequest } from "./api_types.ts";
 * const req: LaunchRequest = { preset: "smoke", overrides: { train: { steps: 300 } }, device: "cpu" };
 * ```
 */
export interface LaunchRequest {
  preset: string;
  overrides: Overrides;
  name?: string;
  device?: Device;
}

/**
 * What `GET /api/runs/NAME/log` and `GET /api/runs/NAME/analyze` answer: a child process of the
 * server (a training run, an analysis).
 *
 * @example
 * ```ts
 * import type { RunLog } from "./api_types.ts";
 * const log: RunLog = { running: false, code: 2, lines: ["mechlab: --p 1: ..."], error: "mechlab: --p 1: ..." };
 * ```
 */
export interface RunLog {
  /** Whether the process is alive. */
  running: boolean;
  /** Its exit code once it has ended (143 for a run stopped by SIGTERM, 137 if killed), else null. */
  code: number | null;
  /** Its last lines of output, stdout and stderr together. */
  lines: string[];
  /** Its last line on stderr (where a failed `mechlab` command says why, in one line), or null. */
  error: string | null;
}

/**
 * Every error answer: one line saying what is wrong.
 *
 * @example
 * ```ts
 * import type { ErrorAnswer } from "./api_types.ts";
 * const e: ErrorAnswer = { error: "run 'x' not found" };
 * ```
 */
export interface ErrorAnswer {
  error: string;
}

/**
 * `GET /api/runs/NAME/vocab`: whether a run's tokens are text (`isTextual`), its sizes, and
 * whether the page runs its costly analyses unasked (`eager`: a small model) or waits to be asked
 * (a GPT-2-sized one: attribution patching alone, the sweep and the head detectors on buttons).
 *
 * @example
 * ```ts
 * import type { VocabAnswer } from "./api_types.ts";
 * const v: VocabAnswer = { textual: true, n_ctx: 64, d_vocab: 65, d_vocab_out: 65, eager: true };
 * ```
 */
export interface VocabAnswer {
  textual: boolean;
  /** Whether the sweep and the detectors run without being asked (`EAGER_MAX_PARAMS`, sequence_api.ts). */
  eager: boolean;
  n_ctx: number;
  d_vocab: number;
  d_vocab_out: number;
}

/**
 * One row of `GET /api/sweeps` (and of the `sweeps` event): a sweep folder under the runs folder
 * (found by its `sweep.json`), its axes and how many members have landed and finished.
 *
 * @example
 * ```ts
 * import type { SweepSummary } from "./api_types.ts";
 * const s: SweepSummary = {
 *   name: "sweep_modular_add_23", preset: "smoke", axes: ["weight_decay"], seeds: 2,
 *   members: 4, landed: 2, done: 1,
 * };
 * ```
 */
export interface SweepSummary {
  name: string;
  preset: string;
  /** The swept config keys, in the plan's order. */
  axes: string[];
  seeds: number;
  /** Members in the plan. */
  members: number;
  /** Members whose run folder is there (shards on other machines land theirs later). */
  landed: number;
  /** Members `sweep.json` calls done. */
  done: number;
}

/**
 * A member's outcome as the API sends it (`engine/sweep/outcome.ts`; `null` where a value is
 * missing or NaN).
 *
 * @example
 * ```ts
 * import type { SweepOutcome } from "./api_types.ts";
 * const o: SweepOutcome = { reached: 450, step: 1500, trainLoss: 1e-4, testLoss: 0.01, testAcc: 1 };
 * ```
 */
export interface SweepOutcome {
  /** The first evaluated step with test accuracy >= 0.99; null: never (so far). */
  reached: number | null;
  step: number;
  trainLoss: number | null;
  testLoss: number | null;
  testAcc: number | null;
}

/**
 * One member in `GET /api/sweeps/NAME`: its values, status, outcome and curve.
 *
 * @example
 * ```ts
 * import type { SweepMemberRow } from "./api_types.ts";
 * const m: SweepMemberRow = {
 *   name: "000_weight_decay-1_seed-0", run: "sweep_modular_add_23/000_weight_decay-1_seed-0",
 *   values: { weight_decay: 1, seed: 0 }, status: "running", outcome: null, curve: [],
 * };
 * ```
 */
export interface SweepMemberRow {
  /** The member's folder in the sweep. */
  name: string;
  /** Its run name for `/api/runs/RUN/...`: `SWEEP/MEMBER`. */
  run: string;
  /** Each axis' value and the seeds (`sweep.json`'s). */
  values: Record<string, number | string | boolean | null>;
  /** `sweep.json`'s status, or `absent` while its folder has not landed. */
  status: "pending" | "running" | "done" | "stopped" | "failed" | "absent";
  /** Null before its first metrics line. */
  outcome: SweepOutcome | null;
  /** Its metrics lines cut to step, test accuracy and the losses. */
  curve: MetricsRecord[];
}

/**
 * `GET /api/sweeps/NAME`: the sweep's plan (axes with their values) and every member.
 *
 * @example
 * ```ts
 * import type { SweepDetail } from "./api_types.ts";
 * const d: SweepDetail = {
 *   name: "sweep_modular_add_23", preset: "smoke", seeds: 1,
 *   axes: [{ key: "weight_decay", values: [0.3, 1] }], members: [],
 * };
 * ```
 */
export interface SweepDetail {
  name: string;
  preset: string;
  seeds: number;
  axes: { key: string; values: (number | string | boolean | null)[] }[];
  members: SweepMemberRow[];
}
