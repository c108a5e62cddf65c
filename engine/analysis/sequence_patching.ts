/**
 * Activation patching between a clean and a corrupted sequence of the same length, for the page's
 * sequence and prompt views: `patchingSweep` (residual stream by layer × position, each head's
 * `hook_z` at every position, each MLP by position), scored by the logit difference at the final
 * position between two answers (given, or each sequence's own), shown as the restored fraction
 * (`restoredSweep`), beside attribution patching's estimate of the same patches and the
 * correlation of the two. On demand, on the CPU model `checkpointRunner` picks (f32 for text and
 * pretrained runs, else float64).
 *
 * @module
 */

import { argmax } from "../tensor/mod.ts";
import { restoredSweep } from "./inspect.ts";
import { logitDiffMetric, patchingSweep } from "./patching.ts";
import type { SequencePatchingReport } from "./report.ts";
import { attributionSweep, pearson } from "./attribution.ts";
import { checkpointRunner } from "./run_data.ts";
import {
  exampleTargets,
  type ResolvedSequence,
  resolveSequence,
  type SequenceInput,
  SequenceInputError,
  type SequenceRun,
  type SequenceTask,
  tokenTexts,
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
export function defaultCorruptExample(task: SequenceTask, example: number): number {
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

/** What `patchSequence` patches, and which two answers its metric compares. */
export interface PatchRequest {
  step: number;
  clean: SequenceInput;
  /** Default, when `clean` is an example: `defaultCorruptExample`'s. */
  corrupt?: SequenceInput | undefined;
  /** The metric's good answer: default the clean sequence's target at the end, else its argmax. */
  answer?: number | undefined;
  /** Its bad answer: default the corrupted sequence's target at the end, else its argmax. */
  corrupt_answer?: number | undefined;
  /**
   * Run the real patches (default true); false gives attribution alone, one forward and one
   * backward pass, for a first look while the sweep (a forward pass per patch) runs.
   */
  patching?: boolean | undefined;
}

/**
 * Patches the `clean` sequence's activations into the `corrupt` one at the checkpoint at `step`
 * (`patchingSweep`), and estimates every patch by attribution patching (`attributionSweep`: one
 * forward and one backward pass), with the correlation of the two over each sweep's entries. The
 * metric is `logit[answer] − logit[corrupt_answer]` at the final position (IOI's logit
 * difference). Sequences of different lengths, or an answer outside the vocabulary, are a
 * `SequenceInputError`.
 *
 * @example
 * ```ts ignore
 * const r = await patchSequence(run, { step: 2000, clean: { prompt: "abcdabc" }, corrupt: { prompt: "abcdabd" } });
 * r.resid_pre; // [L][T]: 1 where the clean residual restores the clean answer
 * r.attribution.correlation.resid_pre; // near 1 where the linear estimate holds
 * ```
 */
export async function patchSequence(
  run: SequenceRun,
  request: PatchRequest,
): Promise<SequencePatchingReport> {
  const { task } = run;
  const { step, clean } = request;
  const cfg = run.config.model;
  const a = resolveSequence(task, clean);
  const corruptInput = request.corrupt ??
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
  const answers = { answer: request.answer, corrupt_answer: request.corrupt_answer };
  for (const [what, t] of Object.entries(answers)) {
    if (t !== undefined && !(Number.isInteger(t) && t >= 0 && t < cfg.d_vocab_out)) {
      throw new SequenceInputError(
        `${what} ${t}: outside the predicted tokens [0, ${cfg.d_vocab_out})`,
      );
    }
  }
  const { runner } = await checkpointRunner(run, step);
  const answer = async (s: ResolvedSequence, given: number | undefined) => {
    if (given !== undefined) return given;
    const t = s.targets[s.ids.length - 1]!;
    if (t >= 0 && t < cfg.d_vocab_out) return t;
    const { logits } = await runner.runWithCache(s.ids, 1); // [1, U]: the last position
    return argmax(logits, -1).data[0]!;
  };
  const clean_answer = await answer(a, request.answer);
  const corrupt_answer = await answer(b, request.corrupt_answer);
  const attr = await attributionSweep(runner, cfg, {
    clean: a.ids,
    corrupt: b.ids,
    good: clean_answer,
    bad: corrupt_answer,
  });
  const sweep = request.patching === false ? null : await patchingSweep(runner, cfg, {
    clean: a.ids,
    corrupt: b.ids,
    batch: 1,
    metric: logitDiffMetric(Int32Array.of(clean_answer), Int32Array.of(corrupt_answer)),
  });
  const { clean: cleanValue, corrupt: corruptValue } = sweep ?? attr;
  // Attribution estimates patched − corrupt: as a restored fraction, corrupt + estimate.
  const estimate = (rows: number[][]) => rows.map((row) => row.map((v) => corruptValue + v));
  const estimated = restoredSweep({
    clean: cleanValue,
    corrupt: corruptValue,
    resid_pre: estimate(attr.resid_pre),
    head_out: estimate(attr.head_out),
    mlp_out: [],
  });
  const correlation = (real: number[][] | undefined, linear: number[][]) => {
    const r = real === undefined ? NaN : pearson(real.flat(), estimate(linear).flat());
    return Number.isNaN(r) ? null : r;
  };
  const shown = (ids: Int32Array) => tokenTexts(task.vocab, ids);
  return {
    step,
    clean: shown(a.ids),
    corrupt: shown(b.ids),
    clean_answer,
    corrupt_answer,
    answer_texts: [
      shown(Int32Array.of(clean_answer))[0]!,
      shown(Int32Array.of(corrupt_answer))[0]!,
    ],
    clean_value: cleanValue,
    corrupt_value: corruptValue,
    patched: sweep !== null,
    ...(sweep === null
      ? { metric: estimated.metric, resid_pre: [], head_out: [], mlp_out: [] }
      : restoredSweep(sweep)),
    attribution: {
      resid_pre: estimated.resid_pre,
      head_out: estimated.head_out,
      correlation: {
        resid_pre: correlation(sweep?.resid_pre, attr.resid_pre),
        head_out: correlation(sweep?.head_out, attr.head_out),
      },
    },
  };
}
