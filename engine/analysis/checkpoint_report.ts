/**
 * Everything `mechlab analyze` computes at one checkpoint: the whole task's table run once through
 * a hooked model (in chunks, caching only the hooks the analyses read), then the losses, the direct
 * logit attribution's error, the weights' measures, and the task's own picture (the grokking
 * paper's Fourier measures for `modular`, alias alignment and twin accuracy for `oocl`, the loss
 * per position, in-context-learning score and head detectors for the sequence tasks).
 *
 * N = examples, U = d_vocab_out, M = d_mlp.
 *
 * @module
 */

import { crossEntropyEval } from "../reference/mod.ts";
import type { HookedRunner } from "../hooks/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { concat, slice, Tensor } from "../tensor/mod.ts";
import {
  ANALYSIS_SEED,
  exampleSplits,
  lastTargets,
  scoresLastOnly,
  type TaskData,
} from "../data/mod.ts";
import { headCircuits } from "./circuits.ts";
import { dlaHookNames, logitAttribution } from "./decompose.ts";
import { embeddingPca } from "./embedding.ts";
import { modularMeasures } from "./modular_report.ts";
import { ooclProgress, ooclReport } from "./oocl_measures.ts";
import { sumSquaredWeights } from "./scalars.ts";
import {
  isSequenceTask,
  rowsLossPerToken,
  SEQUENCE_ROWS,
  sequenceMeasures,
  spreadRows,
} from "./sequence_report.ts";
import { tokenMaps } from "./token_maps.ts";
import type { CheckpointReport, ProgressRow } from "./report.ts";

/**
 * Rows per forward pass: bounds the cache (a grokking table is 12,769 rows, an `oocl` one 25,764)
 * while keeping passes few.
 */
export const ANALYSIS_CHUNK = 4096;

/** The hook the Fourier measures read: the neurons of the paper's one-layer model. */
const NEURONS = "blocks.0.mlp.hook_post";

/** What one pass over the whole table gives. */
interface TablePass {
  /** `[N, U]` at the scored position. */
  logits: Tensor;
  /** `[N, M]` at the scored position, when the model has the paper's neurons. */
  post: Tensor | undefined;
  /** Per layer, `[N, H, T, T]` `hook_pattern`, with the neurons (for the attention from `=`). */
  patterns: Tensor[];
  /** The largest direct-logit-attribution error of any chunk. */
  dlaError: number;
}

/** What `analyzeCheckpoint` looks at. */
export interface CheckpointInputs {
  cfg: ModelConfig;
  task: TaskData;
  weights: Map<string, Tensor>;
  step: number;
  /**
   * `modular`: the frequencies restricted and excluded loss keep or remove (the final checkpoint's
   * key frequencies, as the paper tracks them); default this checkpoint's own.
   */
  lossFreqs?: readonly number[];
}

/**
 * Analyses one checkpoint of a run whose model `runner` runs with `weights`.
 *
 * @example
 * ```ts ignore
 * const runner = cpuRunner(cfg, weights);
 * const report = await analyzeCheckpoint(runner, { cfg, task, weights, step: 1500 });
 * report.progress.test_acc; // 1
 * ```
 */
export async function analyzeCheckpoint(
  runner: HookedRunner,
  at: CheckpointInputs,
): Promise<CheckpointReport> {
  const { cfg, task, weights, step } = at;
  if (!scoresLastOnly(task.targets, task.n_ctx)) return await manyPositionsCheckpoint(runner, at);
  const neurons = task.task === "modular" && cfg.n_layers === 1 && !cfg.attn_only;
  const pass = await runTable(runner, cfg, task, weights, neurons);
  const answers = lastTargets(task); // [N]
  const N = answers.length;
  const { loss, correct } = crossEntropyEval(pass.logits, new Tensor(answers, [N]));
  const lossOf = loss.data as Float64Array;
  const correctOf = correct.data as Float64Array;
  const { train, test } = exampleSplits(task);
  const progress: ProgressRow = {
    step,
    train_loss: meanAt(lossOf, train)!, // every task trains on something
    test_loss: meanAt(lossOf, test),
    train_acc: meanAt(correctOf, train)!,
    test_acc: meanAt(correctOf, test),
    sum_sq_weights: sumSquaredWeights(weights),
    decomposition_error: pass.dlaError,
  };
  const report: CheckpointReport = {
    step,
    progress,
    example_loss: Array.from(lossOf),
    embedding_pca: embeddingPca(weights, 3),
    heads: headCircuits(cfg, weights),
  };
  if (neurons && pass.post !== undefined) {
    const inputs = { p: cfg.d_vocab_out, logits: pass.logits, post: pass.post, weights };
    const measures = modularMeasures(
      { ...inputs, targets: answers, train },
      at.lossFreqs ? { key_freqs: at.lossFreqs } : {},
    );
    report.modular = { ...measures.report, maps: tokenMaps(cfg, weights, pass.patterns) };
    Object.assign(progress, measures.progress);
  }
  if (task.task === "oocl") {
    report.oocl = ooclReport(weights, task, correctOf);
    Object.assign(progress, ooclProgress(report.oocl));
  }
  if (isSequenceTask(task.task)) {
    const data = { tokens: task.tokens, targets: task.targets, n_ctx: task.n_ctx, test, train };
    const sequence = await sequenceMeasures(runner, cfg, weights, data);
    report.sequence = sequence.report;
    Object.assign(progress, sequence.progress);
  }
  return report;
}

/**
 * A checkpoint of a task that scores more than each example's last position (induction,
 * strings, text): loss and accuracy, means over the scored positions of up to `SEQUENCE_ROWS`
 * train and as many held-out examples spread over each split (a text file's windows are too many
 * to run whole at every checkpoint), and the sequence measures. No per-example table: such an
 * example has no one answer.
 */
async function manyPositionsCheckpoint(
  runner: HookedRunner,
  at: CheckpointInputs,
): Promise<CheckpointReport> {
  const { cfg, task, weights, step } = at;
  const { train, test } = exampleSplits(task);
  const scores = async (rows: Int32Array) => {
    if (rows.length === 0) return { loss: null, acc: null };
    const picked = spreadRows(rows, SEQUENCE_ROWS);
    const { loss, correct } = await rowsLossPerToken(runner, cfg, weights, {
      ...task,
      rows: picked,
    });
    return { loss: scoredMean(loss), acc: scoredMean(correct) };
  };
  const [tr, te] = [await scores(train), await scores(test)];
  const progress: ProgressRow = {
    step,
    train_loss: tr.loss!, // every task trains on something
    test_loss: te.loss,
    train_acc: tr.acc!,
    test_acc: te.acc,
    sum_sq_weights: sumSquaredWeights(weights),
  };
  const report: CheckpointReport = {
    step,
    progress,
    example_loss: [],
    embedding_pca: embeddingPca(weights, 3),
    heads: headCircuits(cfg, weights),
  };
  const data = { tokens: task.tokens, targets: task.targets, n_ctx: task.n_ctx, test, train };
  // An imported model's batch is TransformerLens' repeated tokens, BOS first: the detectors' too.
  const detect = { detect: { tokens: task.tokens, seq_len: task.n_ctx, seed: ANALYSIS_SEED } };
  const sequence = await sequenceMeasures(runner, cfg, weights, {
    ...data,
    ...(task.task === "pretrained" ? detect : {}),
  });
  report.sequence = sequence.report;
  Object.assign(progress, sequence.progress);
  return report;
}

/** The mean of the values that are not NaN (the scored positions'). */
function scoredMean(values: Float64Array): number {
  let [sum, n] = [0, 0];
  for (const v of values) if (!Number.isNaN(v)) [sum, n] = [sum + v, n + 1];
  return sum / n;
}

/** Runs every example in chunks, keeping the scored position's logits (and neurons). */
async function runTable(
  runner: HookedRunner,
  cfg: ModelConfig,
  task: TaskData,
  weights: Map<string, Tensor>,
  neurons: boolean,
): Promise<TablePass> {
  const answers = lastTargets(task); // [N]
  const N = answers.length;
  const T = task.n_ctx;
  const patternNames = neurons
    ? Array.from({ length: cfg.n_layers }, (_, l) => `blocks.${l}.attn.hook_pattern`)
    : [];
  const names = [...dlaHookNames(cfg), ...(neurons ? [NEURONS] : []), ...patternNames];
  const logits: Tensor[] = [];
  const post: Tensor[] = [];
  const patterns: Tensor[][] = patternNames.map(() => []);
  let dlaError = 0;
  for (let start = 0; start < N; start += ANALYSIS_CHUNK) {
    const end = Math.min(N, start + ANALYSIS_CHUNK);
    const tokens = task.tokens.subarray(start * T, end * T);
    const run = await runner.runWithCache(tokens, end - start, { names });
    const targets = answers.subarray(start, end);
    const dla = logitAttribution(cfg, weights, run.cache, { targets });
    dlaError = Math.max(dlaError, dla.error);
    logits.push(run.logits.astype("f64"));
    if (neurons) post.push(slice(run.cache.get(NEURONS)!, [null, -1]).astype("f64")); // [B, M]
    patternNames.forEach((n, l) => patterns[l]!.push(run.cache.get(n)!.astype("f64")));
  }
  return {
    logits: concat(logits, 0),
    post: neurons ? concat(post, 0) : undefined,
    patterns: patterns.map((chunks) => concat(chunks, 0)),
    dlaError,
  };
}

/** The mean of `values` at `indices`, or `null` when there are none (a run holding nothing out). */
function meanAt(values: Float64Array, indices: Int32Array): number | null {
  if (indices.length === 0) return null;
  let s = 0;
  for (const i of indices) s += values[i]!;
  return s / indices.length;
}
