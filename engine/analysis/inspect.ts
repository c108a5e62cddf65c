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
import type { TaskData } from "../data/mod.ts";
import { dlaHookNames, logitAttribution } from "./decompose.ts";
import { logitLens } from "./logit_lens.ts";
import { logitDiffMetric, patchingSweep } from "./patching.ts";
import type { InspectReport } from "./report.ts";
import { checkpointWeights, openAnalysisRun } from "./run_data.ts";

/** What the patching view shows: 0 = the corrupt run's logit difference, 1 = the clean run's. */
const METRIC = "logit difference (clean answer − corrupt answer), 0 = corrupt run, 1 = clean run";

/**
 * Inspects example `example` (an index into the task's table) of the run at `runPath`, with the
 * weights of its checkpoint at `step`. Errors (no such run, step or example) are one line.
 *
 * @example
 * ```ts ignore
 * const r = await inspectExample("runs/modular_add_23", 1500, 30);
 * r.tokens; // ["1", "7", "="]
 * r.dla.values.reduce((a, b) => a + b); // the target's logit
 * ```
 */
export async function inspectExample(
  runPath: string,
  step: number,
  example: number,
): Promise<InspectReport> {
  const run = await openAnalysisRun(runPath);
  const { task } = run;
  const cfg = run.config.model;
  const N = task.targets.length;
  if (!Number.isInteger(example) || example < 0 || example >= N) {
    throw new RangeError(`example ${example}: expected an integer in [0, ${N})`);
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
    names: [...new Set([...patternNames, ...dlaHookNames(cfg)])],
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
  const scale = (v: number) => (v - sweep.corrupt) / (sweep.clean - sweep.corrupt);
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
      metric: METRIC,
      resid_pre: sweep.resid_pre.map((row) => row.map(scale)),
      head_out: sweep.head_out.map((row) => row.map(scale)),
      mlp_out: sweep.mlp_out.map((row) => row.map(scale)),
    },
  };
}

/**
 * The input patching runs into: the next example (cyclically) of the same group with another
 * answer, so the two differ in one token where the table allows it (`(x, y)` → `(x, y + 1)`).
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
  const groupOf = (i: number) =>
    task.groups.findIndex((g) => g.train.includes(i) || g.test.includes(i));
  const group = groupOf(example);
  let fallback = -1;
  for (let k = 1; k < N; k++) {
    const j = (example + k) % N;
    if (task.targets[j] === task.targets[example]) continue;
    if (groupOf(j) === group) return j;
    if (fallback < 0) fallback = j;
  }
  if (fallback < 0) throw new RangeError("every example has the same answer: nothing to patch");
  return fallback;
}
