/**
 * One input looked at closely at one checkpoint, for the page's per-input views: its attention
 * patterns, the direct logit attribution of its answer, the logit lens, and activation patching
 * from it into another input with another answer. Small enough to compute on demand (one example,
 * the float64 CPU model), so nothing of it is stored.
 *
 * @module
 */

import { cpuRunner } from "../hooks/mod.ts";
import { crossEntropyEval } from "../reference/mod.ts";
import { argmax, Tensor } from "../tensor/mod.ts";
import { exampleSplits, type TaskData } from "../data/mod.ts";
import { dlaHookNames, logitAttribution } from "./decompose.ts";
import { lensHookNames, logitLens } from "./logit_lens.ts";
import { logitDiffMetric, patchingSweep } from "./patching.ts";
import type { InspectReport } from "./report.ts";
import { type AnalysisRun, checkpointWeights, RunInputError } from "./run_data.ts";

/** What the patching view shows: 0 = the corrupt run's logit difference, 1 = the clean run's. */
const METRIC = "logit difference (clean answer − corrupt answer), 0 = corrupt run, 1 = clean run";
/** Why the scale is undefined when the clean and corrupt runs score alike (an untrained model). */
const SAME = "the clean and corrupt runs score the same";

/**
 * `v` as the fraction of the way from the corrupt run's metric to the clean run's (0 = corrupt,
 * 1 = clean); NaN (sent as `null`) for every `v` when the two runs score the same to within
 * rounding, where the fraction means nothing.
 *
 * @example
 * ```ts
 * import { restoredFraction } from "./inspect.ts";
 * restoredFraction(3, 1)(2); // 0.5
 * Number.isNaN(restoredFraction(1, 1)(1)); // true
 * ```
 */
export function restoredFraction(clean: number, corrupt: number): (v: number) => number {
  const span = clean - corrupt;
  if (!(Math.abs(span) > 1e-9 * Math.max(Math.abs(clean), Math.abs(corrupt), 1))) {
    return () => NaN;
  }
  return (v) => (v - corrupt) / span;
}

/**
 * Inspects example `example` (an index into the task's table) of `run` (`openAnalysisRun`), with
 * the weights of its checkpoint at `step`. A step without a checkpoint or an example outside the
 * table is a one-line `RunInputError`.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/modular_add_23");
 * const r = await inspectExample(run, 1500, 30);
 * r.tokens; // ["1", "7", "="]
 * r.dla.values.reduce((a, b) => a + b); // the target's logit
 * ```
 */
export async function inspectExample(
  run: AnalysisRun,
  step: number,
  example: number,
): Promise<InspectReport> {
  const { task } = run;
  const cfg = run.config.model;
  const N = task.targets.length;
  if (!Number.isInteger(example) || example < 0 || example >= N) {
    throw new RunInputError(`example ${example}: the task has ${N} (0 to ${N - 1})`);
  }
  const weights = await checkpointWeights(run, step);
  const runner = cpuRunner(cfg, weights);
  const T = task.n_ctx;
  const tokens = task.tokens.slice(example * T, (example + 1) * T);
  const target = task.targets[example]!;
  const targets = Int32Array.of(target);
  const patternNames = Array.from(
    { length: cfg.n_layers },
    (_, l) => `blocks.${l}.attn.hook_pattern`,
  );
  const { logits, cache } = await runner.runWithCache(tokens, 1, {
    names: [...new Set([...patternNames, ...dlaHookNames(cfg), ...lensHookNames(cfg)])],
  });
  const scored = logits.astype("f64"); // [1, U]
  const { loss } = crossEntropyEval(scored, new Tensor(targets, [1]));
  const dla = logitAttribution(cfg, weights, cache, { targets });
  const lens = logitLens(cfg, weights, cache, targets);
  const corrupt = corruptPartner(task, example);
  const sweep = await patchingSweep(runner, cfg, {
    clean: tokens,
    corrupt: task.tokens.slice(corrupt * T, (corrupt + 1) * T),
    batch: 1,
    metric: logitDiffMetric(targets, Int32Array.of(task.targets[corrupt]!)),
  });
  const fraction = restoredFraction(sweep.clean, sweep.corrupt);
  const scale = (v: number) => Number.isNaN(fraction(v)) ? null : fraction(v);
  return {
    step,
    example,
    tokens: Array.from(tokens, (t) => task.vocab.labels[t] ?? String(t)),
    target,
    prediction: argmax(scored, -1).data[0]!,
    loss: loss.data[0]!,
    patterns: patternNames.map((name) => (cache.get(name)!.toNested() as number[][][][])[0]!),
    dla: { labels: dla.labels, values: Array.from(dla.values.data) },
    logit_lens: {
      labels: lens.labels,
      target_logit: Array.from(lens.logit.data),
      target_prob: Array.from(lens.prob.data),
      target_rank: Array.from(lens.rank.data),
    },
    patching: {
      corrupt_example: corrupt,
      metric: scale(sweep.clean) === null ? `${METRIC}; undefined here: ${SAME}` : METRIC,
      resid_pre: sweep.resid_pre.map((row) => row.map(scale)),
      head_out: sweep.head_out.map((row) => row.map(scale)),
      mlp_out: sweep.mlp_out.map((row) => row.map(scale)),
    },
  };
}

/**
 * The input patching runs into: the next example (cyclically, by index) of the same group with
 * another answer, else of any group. For `modular`, example `x·p + y` is usually followed by
 * `(x, y + 1)`, one token apart; at `y = p − 1` (or where the next answers repeat) the partner
 * may differ in both x and y.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { corruptPartner } from "./inspect.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.5, data_seed: 0 });
 * corruptPartner(task, 7); // 8: (1, 2) → (1, 3), answer 3 → 4
 * ```
 */
export function corruptPartner(task: TaskData, example: number): number {
  const N = task.targets.length;
  const groupOf = exampleSplits(task).group;
  let fallback = -1;
  for (let k = 1; k < N; k++) {
    const j = (example + k) % N;
    if (task.targets[j] === task.targets[example]) continue;
    if (groupOf[j] === groupOf[example]) return j;
    if (fallback < 0) fallback = j;
  }
  if (fallback < 0) {
    throw new RunInputError("every example has the same answer: nothing to patch against");
  }
  return fallback;
}
