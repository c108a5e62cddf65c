/**
 * One sequence looked at closely at one checkpoint, for the page's sequence views: its loss at
 * every position, its attention patterns with token labels, and the logit lens and direct logit
 * attribution at a chosen position (`logitLens` and `logitAttribution` at `pos`, the same
 * functions the last-position views use). Computed on demand on the CPU model `checkpointRunner`
 * picks (f32 for text and pretrained runs, else float64, like `inspectExample`).
 *
 * @module
 */

import { argmax, slice } from "../tensor/mod.ts";
import { dlaHookNames, logitAttribution, unembedHookName } from "./decompose.ts";
import { lensHookNames, lensReport, logitLens } from "./logit_lens.ts";
import { lossPerToken, unembedAll } from "./loss_per_position.ts";
import type { SequenceInspectReport } from "./report.ts";
import { checkpointRunner } from "./run_data.ts";
import {
  resolveSequence,
  type SequenceInput,
  SequenceInputError,
  type SequenceRun,
  tokenTexts,
} from "./sequence_input.ts";

/** Where the lens and the attribution look, and which logit they follow. */
export interface SequenceInspectOptions {
  /** The position; negative counts from the end. Default -1, the last. */
  pos?: number;
  /** The token id to follow; default the target at `pos`, else the model's argmax there. */
  target?: number;
}

/**
 * The sequence `input` names (an example of `run`'s task, token ids or a prompt) at the checkpoint
 * at `step`: `SequenceInspectReport`. A bad input, position or target is a `SequenceInputError`.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/induction");
 * const r = await inspectSequence(run, 2000, { example: 3 }, { pos: 40 });
 * r.dla.values.reduce((a, b) => a + b); // the target's logit at position 40
 * ```
 */
export async function inspectSequence(
  run: SequenceRun,
  step: number,
  input: SequenceInput,
  options: SequenceInspectOptions = {},
): Promise<SequenceInspectReport> {
  const seq = resolveSequence(run.task, input);
  const cfg = run.config.model;
  const T = seq.ids.length;
  const pos = options.pos ?? -1;
  if (!Number.isInteger(pos) || pos < -T || pos >= T) {
    throw new SequenceInputError(`pos ${pos}: the sequence has ${T} positions (0 to ${T - 1})`);
  }
  const at = pos < 0 ? T + pos : pos;
  const { weights, runner } = await checkpointRunner(run, step);
  const patternNames = Array.from(
    { length: cfg.n_layers },
    (_, l) => `blocks.${l}.attn.hook_pattern`,
  );
  const names = [
    ...patternNames,
    ...dlaHookNames(cfg),
    ...lensHookNames(cfg),
    unembedHookName(cfg),
  ];
  const { cache } = await runner.runWithCache(seq.ids, 1, {
    names: [...new Set(names)],
  });
  const logits = unembedAll(cfg, weights, cache); // [1, T, U]
  const prediction = argmax(slice(logits, [0, at]), -1).data[0]!;
  const scored = seq.targets[at]! >= 0 && seq.targets[at]! < cfg.d_vocab_out;
  let target: number;
  let target_from: SequenceInspectReport["target_from"];
  if (options.target !== undefined) {
    if (
      !Number.isInteger(options.target) || options.target < 0 || options.target >= cfg.d_vocab_out
    ) {
      throw new SequenceInputError(`target ${options.target}: outside [0, ${cfg.d_vocab_out})`);
    }
    [target, target_from] = [options.target, "given"];
  } else if (scored) [target, target_from] = [seq.targets[at]!, seq.from];
  else [target, target_from] = [prediction, "prediction"];
  const targets = Int32Array.of(target);
  const dla = logitAttribution(cfg, weights, cache, { pos: at, targets });
  const lens = logitLens(cfg, weights, cache, targets, { pos: at });
  return {
    step,
    example: seq.example,
    tokens: tokenTexts(run.task.vocab, seq.ids),
    ids: Array.from(seq.ids),
    pos: at,
    target,
    target_from,
    prediction,
    target_text: tokenTexts(run.task.vocab, [target])[0]!,
    prediction_text: tokenTexts(run.task.vocab, [prediction])[0]!,
    loss: Array.from(lossPerToken(logits, seq.targets).loss, (l) => Number.isNaN(l) ? null : l),
    patterns: patternNames.map((name) => (cache.get(name)!.toNested() as number[][][][])[0]!),
    dla: { labels: dla.labels, values: Array.from(dla.values.data) },
    logit_lens: lensReport(lens),
  };
}
