/**
 * A sequence task's measures at one checkpoint (`SequenceReport`), for `mechlab analyze`: the loss
 * at every position over held-out examples, the in-context-learning score read off it, and every
 * head's `detect_head` scores on repeated random tokens, so the induction bump shows across
 * checkpoints. Bounded whatever the task: `SEQUENCE_ROWS` examples, run `SEQUENCE_TOKENS` tokens
 * per pass, a report of a few KB.
 *
 * Shape letters: N examples, T n_ctx.
 *
 * @module
 */

import type { HookedRunner } from "../hooks/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import type { Tensor } from "../tensor/mod.ts";
import { unembedHookName } from "./decompose.ts";
import { type DetectSequences, headDetectorScores } from "./head_detector.ts";
import {
  iclScore,
  lossPerToken,
  meanPerPosition,
  type TokenScores,
  unembedAll,
} from "./loss_per_position.ts";
import type { ProgressRow, SequenceReport } from "./report.ts";

/** The `task` names of the sequence tasks: those `analyze` gives a `SequenceReport`. */
export const SEQUENCE_TASKS = ["induction", "brackets", "strings", "text", "pretrained"] as const;

/**
 * Examples averaged per position: enough for a smooth curve (the per-position mean of 128 losses)
 * at a cost that stays small beside the rest of a checkpoint's analysis on the CPU.
 */
export const SEQUENCE_ROWS = 128;
/** Tokens per forward pass: bounds the cache (`[rows, T, d_model]`) at n_ctx up to 1,024. */
export const SEQUENCE_TOKENS = 16384;

/**
 * Whether `task` is one of `SEQUENCE_TASKS`.
 *
 * @example
 * ```ts
 * import { isSequenceTask } from "./sequence_report.ts";
 * isSequenceTask("induction"); // true
 * isSequenceTask("modular"); // false
 * ```
 */
export function isSequenceTask(task: string): boolean {
  return (SEQUENCE_TASKS as readonly string[]).includes(task);
}

/** What `sequenceMeasures` reads of a task. */
export interface SequenceData {
  /** `[N, T]` row-major. */
  tokens: Int32Array;
  /** `[N, T]`: the id the logits at each position must predict, `IGNORE` where unscored. */
  targets: Int32Array;
  /** T. */
  n_ctx: number;
  /** The held-out examples (ascending); may be empty. */
  test: Int32Array;
  /** The train examples: used when nothing is held out. */
  train: Int32Array;
  /** The sequences the head detectors run on; default their own (`headDetectorScores`). */
  detect?: DetectSequences;
}

/**
 * Up to `max` of `indices`, evenly spread (`indices[⌊i · n / max⌋]`), so a long split is sampled
 * end to end rather than cut at its start.
 *
 * @example
 * ```ts
 * import { spreadRows } from "./sequence_report.ts";
 * spreadRows(Int32Array.of(0, 1, 2, 3, 4, 5), 3); // Int32Array [0, 2, 4]
 * ```
 */
export function spreadRows(indices: Int32Array, max: number): Int32Array {
  const n = indices.length;
  if (n <= max) return indices;
  return Int32Array.from({ length: max }, (_, i) => indices[Math.floor(i * n / max)]!);
}

/**
 * The loss and correctness at every position of `rows`' examples, `[rows.length * T]` each (NaN
 * where unscored), from
 * the logits at every position (`unembedAll`), in passes of at most `SEQUENCE_TOKENS` tokens.
 *
 * @example
 * ```ts ignore
 * const { loss } = await rowsLossPerToken(runner, cfg, weights, { ...data, rows: Int32Array.of(0, 1) });
 * loss.length; // 2 * n_ctx
 * ```
 */
export async function rowsLossPerToken(
  runner: HookedRunner,
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  data: Pick<SequenceData, "tokens" | "targets" | "n_ctx"> & { rows: Int32Array },
): Promise<TokenScores> {
  const { rows, n_ctx: T } = data;
  const chunk = Math.max(1, Math.min(runner.maxBatch, Math.floor(SEQUENCE_TOKENS / T)));
  const out = {
    loss: new Float64Array(rows.length * T),
    correct: new Float64Array(rows.length * T),
  };
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.subarray(start, start + chunk);
    const tokens = new Int32Array(part.length * T);
    const targets = new Int32Array(part.length * T);
    part.forEach((n, i) => {
      tokens.set(data.tokens.subarray(n * T, (n + 1) * T), i * T);
      targets.set(data.targets.subarray(n * T, (n + 1) * T), i * T);
    });
    const { cache } = await runner.runWithCache(tokens, part.length, {
      names: [unembedHookName(cfg)],
    });
    const scores = lossPerToken(unembedAll(cfg, weights, cache), targets);
    out.loss.set(scores.loss, start * T);
    out.correct.set(scores.correct, start * T);
  }
  return out;
}

/**
 * The `SequenceReport` of the model `runner` runs with `weights`, and the `ProgressRow` fields it
 * sets: the loss per position over `SEQUENCE_ROWS` held-out examples (train ones when none is held
 * out), its in-context-learning score, and the head detectors.
 *
 * @example
 * ```ts ignore
 * const { report, progress } = await sequenceMeasures(runner, cfg, weights, data);
 * report.loss_per_position.length; // n_ctx
 * progress.induction_score; // the best head's
 * ```
 */
export async function sequenceMeasures(
  runner: HookedRunner,
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  data: SequenceData,
): Promise<{ report: SequenceReport; progress: Partial<ProgressRow> }> {
  const T = data.n_ctx;
  if (data.tokens.length % T !== 0 || data.targets.length !== data.tokens.length) {
    throw new RangeError(
      `sequence measures: ${data.tokens.length} tokens and ${data.targets.length} targets ` +
        `are not both [N, ${T}]`,
    );
  }
  const split = data.test.length > 0 ? "test" : "train";
  const rows = spreadRows(split === "test" ? data.test : data.train, SEQUENCE_ROWS);
  const { loss } = await rowsLossPerToken(runner, cfg, weights, { ...data, rows });
  const loss_per_position = meanPerPosition(loss, T);
  const icl = iclScore(loss_per_position);
  const detectors = await headDetectorScores(runner, cfg, data.detect);
  const { previous_token, duplicate_token, induction } = detectors;
  return {
    report: { loss_per_position, rows: rows.length, split, icl, detectors },
    progress: {
      icl_score: icl?.score ?? null,
      induction_score: Math.max(...induction.flat()),
      head_scores: { previous_token, duplicate_token, induction },
    },
  };
}
