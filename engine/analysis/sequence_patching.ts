/**
 * Activation patching between a clean and a corrupted sequence of the same length, for the page's
 * sequence views: `patchingSweep` (residual stream by layer × position, each head's `hook_z` at
 * every position, each MLP by position), scored by the logit difference at the final position
 * between the clean answer and the corrupted one, shown as the restored fraction
 * (`restoredSweep`). On demand, on the float64 CPU model.
 *
 * @module
 */

import { cpuRunner } from "../hooks/mod.ts";
import { argmax } from "../tensor/mod.ts";
import { restoredSweep } from "./inspect.ts";
import { logitDiffMetric, patchingSweep } from "./patching.ts";
import type { SequencePatchingReport } from "./report.ts";
import { type AnalysisRun, checkpointWeights } from "./run_data.ts";
import {
  exampleTargets,
  type ResolvedSequence,
  resolveSequence,
  type SequenceInput,
  SequenceInputError,
} from "./sequence_input.ts";

/**
 * The example patching runs into by default: the first after `example` (cyclically) whose target
 * at the last position differs, so the two answers' logit difference means something; else (the
 * last position unscored everywhere) the first whose tokens differ; a `SequenceInputError` when none
 * does.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { defaultCorruptExample } from "./sequence_patching.ts";
 * defaultCorruptExample(modularTask({ op: "add", p: 5, frac_train: 0.5, data_seed: 0 }), 0); // 1
 * ```
 */
export function defaultCorruptExample(task: AnalysisRun["task"], example: number): number {
  const T = task.n_ctx;
  const N = task.tokens.length / T;
  const last = (n: number) => exampleTargets(task, n)[T - 1];
  const row = (n: number) => task.tokens.subarray(n * T, (n + 1) * T);
  const others = Array.from({ length: N - 1 }, (_, k) => (example + 1 + k) % N);
  const found = others.find((j) => last(j) !== last(example)) ??
    others.find((j) => row(j).some((t, i) => t !== row(example)[i]));
  if (found === undefined) {
    throw new SequenceInputError("every example is the same: give a corrupted sequence");
  }
  return found;
}

/**
 * Patches the `clean` sequence's activations into the `corrupt` one (default, when `clean` is an
 * example: `defaultCorruptExample`'s) at the checkpoint at `step`. The answers are each
 * sequence's target at the final position, else its own run's argmax there. Sequences of
 * different lengths are a `SequenceInputError`.
 *
 * @example
 * ```ts ignore
 * const r = await patchSequence(run, 2000, { prompt: "abcdabc" }, { prompt: "abcdeb c" });
 * r.resid_pre; // [L][T]: 1 where the clean residual restores the clean answer
 * ```
 */
export async function patchSequence(
  run: AnalysisRun,
  step: number,
  clean: SequenceInput,
  corrupt?: SequenceInput,
): Promise<SequencePatchingReport> {
  const { task } = run;
  const cfg = run.config.model;
  const a = resolveSequence(task, clean);
  const corruptInput = corrupt ??
    (a.example !== null ? { example: defaultCorruptExample(task, a.example) } : undefined);
  if (corruptInput === undefined) {
    throw new SequenceInputError("patching a prompt needs a corrupted one of the same length");
  }
  const b = resolveSequence(task, corruptInput);
  if (a.ids.length !== b.ids.length) {
    throw new SequenceInputError(
      `the clean sequence has ${a.ids.length} tokens, the corrupted ${b.ids.length}: they must match`,
    );
  }
  const weights = await checkpointWeights(run, step);
  const runner = cpuRunner(cfg, weights);
  const answer = async (s: ResolvedSequence) => {
    const t = s.targets[s.ids.length - 1]!;
    if (t >= 0 && t < cfg.d_vocab_out) return t;
    const { logits } = await runner.runWithCache(s.ids, 1); // [1, U]: the last position
    return argmax(logits, -1).data[0]!;
  };
  const [clean_answer, corrupt_answer] = [await answer(a), await answer(b)];
  const sweep = await patchingSweep(runner, cfg, {
    clean: a.ids,
    corrupt: b.ids,
    batch: 1,
    metric: logitDiffMetric(Int32Array.of(clean_answer), Int32Array.of(corrupt_answer)),
  });
  const labels = task.vocab.labels;
  const shown = (ids: Int32Array) => Array.from(ids, (t) => labels[t] ?? String(t));
  return {
    step,
    clean: shown(a.ids),
    corrupt: shown(b.ids),
    clean_answer,
    corrupt_answer,
    clean_value: sweep.clean,
    corrupt_value: sweep.corrupt,
    ...restoredSweep(sweep),
  };
}
