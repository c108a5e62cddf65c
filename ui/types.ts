/**
 * The shapes `mechlab serve`'s API sends and takes, as the page sees them. Kept apart from the
 * client (`api.ts`) so the pure logic and its tests type-check without the browser's globals.
 *
 * @module
 */

/**
 * One line of a run's `metrics.jsonl`: `step`, `lr`, `time_s`, `train/loss`, `test/acc`, and for
 * `oocl` runs the per-group keys (`train/loss_table1`, ...). `null` where the run logged NaN.
 *
 * @example
 * ```ts
 * import type { MetricsRecord } from "./types.ts";
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
 * import type { RunStatus } from "./types.ts";
 * const s: RunStatus = "running";
 * ```
 */
export type RunStatus = "running" | "finished" | "stopped";

/**
 * One row of `GET /api/runs`.
 *
 * @example
 * ```ts
 * import type { RunSummary } from "./types.ts";
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
}

/**
 * One entry of `GET /api/runs/NAME/checkpoints`.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./types.ts";
 * const c: Checkpoint = { step: 500, file: "step_000500.safetensors" };
 * ```
 */
export interface Checkpoint {
  step: number;
  file: string;
}

/**
 * One preset of `GET /api/presets`: why it exists and the config parts it sets.
 *
 * @example
 * ```ts
 * import type { Preset } from "./types.ts";
 * const smoke: Preset = { why: "small", task: { task: "modular", p: 23 }, model: {}, train: {} };
 * ```
 */
export interface Preset {
  why: string;
  task: Record<string, unknown>;
  model: Record<string, unknown>;
  train: Record<string, unknown>;
}

/**
 * The body of `POST /api/runs`: a preset, the fields that override it, and an optional name.
 *
 * @example
 * ```ts
 * import type { LaunchRequest } from "./types.ts";
 * const req: LaunchRequest = { preset: "smoke", overrides: { train: { steps: 300 } } };
 * ```
 */
export interface LaunchRequest {
  preset: string;
  overrides: {
    task?: Record<string, unknown>;
    model?: Record<string, unknown>;
    train?: Record<string, unknown>;
  };
  name?: string;
}

/**
 * What `mechlab analyze` writes under `runs/NAME/analysis/` and the inspect endpoint answers: the
 * shapes of `engine/analysis/report.ts`, one definition for the writer, the server and the page.
 *
 * @example
 * ```ts
 * import type { AnalysisIndex } from "./types.ts";
 * const steps = (index: AnalysisIndex) => index.steps;
 * ```
 */
export type {
  AnalysisIndex,
  AnalysisSummary,
  CheckpointReport,
  HeadCircuits,
  InspectReport,
  ModularReport,
  OoclReport,
  ProgressRow,
} from "../engine/analysis/report.ts";
