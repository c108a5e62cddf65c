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
import { exampleSplits, lastTargets, type TaskData } from "../data/mod.ts";
import { dlaHookNames, logitAttribution } from "./decompose.ts";
import { lensHookNames, lensReport, logitLens } from "./logit_lens.ts";
import { logitDiffMetric, type PatchingSweep, patchingSweep } from "./patching.ts";
import { partnerProblem } from "./partner.ts";
import type { InspectReport } from "./report.ts";
import { RunInputError } from "../runs/mod.ts";
import { type AnalysisRun, checkpointWeights } from "./run_data.ts";

/** What the patching view shows: 0 = the corrupt run's logit difference, 1 = the clean run's. */
export const PATCHING_METRIC =
  "logit difference (clean answer − corrupt answer), 0 = corrupt run, 1 = clean run";
/** Why the scale is undefined when the clean and corrupt runs score alike (an untrained model). */
export const PATCHING_SAME = "the clean and corrupt runs score the same";

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
 * A patching sweep as the page shows it: every value as `restoredFraction` of the way from the
 * corrupt run's metric to the clean run's, `null` where that is undefined (the two runs scoring
 * the same), and the line that says which.
 *
 * @example
 * ```ts
 * import { restoredSweep } from "./inspect.ts";
 * const r = restoredSweep({ clean: 2, corrupt: 0, resid_pre: [[0, 1]], head_out: [[2]], mlp_out: [[]] });
 * r.resid_pre; // [[0, 0.5]]
 * r.head_out; // [[1]]
 * ```
 */
export function restoredSweep(sweep: PatchingSweep): {
  metric: string;
  resid_pre: (number | null)[][];
  head_out: (number | null)[][];
  mlp_out: (number | null)[][];
} {
  const fraction = restoredFraction(sweep.clean, sweep.corrupt);
  const scale = (v: number) => Number.isNaN(fraction(v)) ? null : fraction(v);
  return {
    metric: scale(sweep.clean) === null
      ? `${PATCHING_METRIC}; undefined here: ${PATCHING_SAME}`
      : PATCHING_METRIC,
    resid_pre: sweep.resid_pre.map((row) => row.map(scale)),
    head_out: sweep.head_out.map((row) => row.map(scale)),
    mlp_out: sweep.mlp_out.map((row) => row.map(scale)),
  };
}

/**
 * Inspects example `example` (an index into the task's table) of `run` (`openAnalysisRun`), with
 * the weights of its checkpoint at `step`, patching it into `options.partner` (by default
 * `corruptPartner`'s). A step without a checkpoint, an example outside the table or a partner
 * `partnerProblem` refuses is a one-line `RunInputError`.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/modular_add_23");
 * const r = await inspectExample(run, 1500, 30, { partner: 100 });
 * r.tokens; // ["1", "7", "="]
 * r.dla.values.reduce((a, b) => a + b); // the target's logit
 * ```
 */
export async function inspectExample(
  run: AnalysisRun,
  step: number,
  example: number,
  options: { partner?: number } = {},
): Promise<InspectReport> {
  const { task } = run;
  const cfg = run.config.model;
  const answers = lastTargets(task); // [N]
  const N = answers.length;
  if (!Number.isInteger(example) || example < 0 || example >= N) {
    throw new RunInputError(`example ${example}: the task has ${N} (0 to ${N - 1})`);
  }
  const corrupt = options.partner ?? corruptPartner(task, example);
  const problem = partnerProblem(answers, example, corrupt);
  if (problem !== null) throw new RunInputError(problem);
  const weights = await checkpointWeights(run, step);
  const runner = cpuRunner(cfg, weights);
  const T = task.n_ctx;
  const tokens = task.tokens.slice(example * T, (example + 1) * T);
  const target = answers[example]!;
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
  const sweep = await patchingSweep(runner, cfg, {
    clean: tokens,
    corrupt: task.tokens.slice(corrupt * T, (corrupt + 1) * T),
    batch: 1,
    metric: logitDiffMetric(targets, Int32Array.of(answers[corrupt]!)),
  });
  return {
    step,
    example,
    tokens: Array.from(tokens, (t) => task.vocab.labels[t] ?? String(t)),
    target,
    prediction: argmax(scored, -1).data[0]!,
    loss: loss.data[0]!,
    patterns: patternNames.map((name) => (cache.get(name)!.toNested() as number[][][][])[0]!),
    dla: { labels: dla.labels, values: Array.from(dla.values.data) },
    logit_lens: lensReport(lens),
    patching: { corrupt_example: corrupt, ...restoredSweep(sweep) },
  };
}

/**
 * The input patching runs into by default: of the examples with another answer, one of the same
 * group whose input differs from this one's at the most positions, the first such after it
 * (cyclically, by index), else of any group. For `modular`, `(x, y)` gets a partner differing in
 * both x and y (usually `(x + 1, 0)`), so patching either position matters; a partner one token
 * apart (`(x, y + 1)`) would leave the x position trivially at 0.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { corruptPartner } from "./inspect.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.5, data_seed: 0 });
 * corruptPartner(task, 7); // 10: (1, 2) → (2, 0), answer 3 → 2
 * ```
 */
export function corruptPartner(task: TaskData, example: number): number {
  const answers = lastTargets(task); // [N]
  const N = answers.length;
  const T = task.n_ctx;
  const groupOf = exampleSplits(task).group;
  const differing = (j: number) => {
    let n = 0;
    for (let t = 0; t < T; t++) {
      n += task.tokens[j * T + t] === task.tokens[example * T + t] ? 0 : 1;
    }
    return n;
  };
  let best = -1;
  let bestScore = -1;
  for (let k = 1; k < N; k++) {
    const j = (example + k) % N;
    if (answers[j] === answers[example]) continue;
    // The same group outranks any count of differing positions (T + 1 > T).
    const score = (groupOf[j] === groupOf[example] ? T + 1 : 0) + differing(j);
    if (score > bestScore) [best, bestScore] = [j, score];
  }
  if (best < 0) {
    throw new RunInputError("every example has the same answer: nothing to patch against");
  }
  return best;
}
