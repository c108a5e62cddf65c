/**
 * The shape every training task produces, whatever it computes: a vocabulary, every example as a
 * row of token ids with a target at every position (or `IGNORE` where that position is not
 * scored), and named groups of example indices split into train and test, each with its weight in
 * the loss.
 *
 * A task holds *all* its examples at once (the tasks here are small: p² or 2p² + 2p rows), so
 * training is full-batch or samples indices from a group, evaluation runs a group's test indices,
 * and an analysis can run the whole table. Splits are indices, not copies, so `split.json` records
 * exactly which examples trained and a Python user can rebuild the same sets.
 *
 * Loss and accuracy are means over scored positions: the training loss is
 * Σ_g k_g · (mean cross-entropy over group g's scored positions), so a task scoring one position
 * per example (modular arithmetic, the out-of-context tables) is the mean over its examples.
 *
 * N = number of examples, n_ctx = tokens per example.
 *
 * @module
 */

import { permutation, type Rng } from "../tensor/mod.ts";

/** The token ids a task uses and how each is shown. */
export interface Vocab {
  /** Number of input token ids: TransformerLens' `d_vocab`, the rows of `W_E`. */
  d_vocab: number;
  /** Number of ids the model predicts: TransformerLens' `d_vocab_out`, the columns of `W_U`. */
  d_vocab_out: number;
  /** `labels[id]`: how token `id` is displayed ("0".."112", "=", "x'3" for an alias, "true"). */
  labels: string[];
  /** How text becomes tokens when not from the labels: "gpt2" for an imported GPT-2 (`codec.ts`). */
  tokenizer?: "gpt2";
}

/** A named set of examples with its own train/test split and loss weight. */
export interface Group {
  /** "all" for a modular task; "table1", "table2" or "links" for the out-of-context task. */
  name: string;
  /** Indices into the task's examples that train, ascending. */
  train: Int32Array;
  /** Indices that are held out for evaluation, ascending (may be empty, e.g. "links"). */
  test: Int32Array;
  /** The loss coefficient k: the training loss is Σ weight · (mean loss over the group's train). */
  weight: number;
}

/**
 * The target of a position that is not scored: PyTorch's `ignore_index`. A classification task
 * scores its answer position(s) only; a language model scores every position whose next token is
 * known (the logits at position t predict token t + 1, as in TransformerLens).
 */
export const IGNORE = -1;

/** A task's complete data: vocabulary, every example, and its groups. */
export interface TaskData {
  /** Which constructor made it. */
  task: "modular" | "oocl" | "induction" | "brackets" | "strings" | "text" | "pretrained";
  /** The token ids and their labels. */
  vocab: Vocab;
  /** Tokens per example: TransformerLens' `n_ctx`. */
  n_ctx: number;
  /** Every example, row-major. */
  tokens: Int32Array; // [N, n_ctx]
  /**
   * What the logits at each position must predict, in `[0, d_vocab_out)`, or `IGNORE` where the
   * position is not scored: a language model's position t predicts token t + 1, a classification
   * task scores its answer position(s) only.
   */
  targets: Int32Array; // [N, n_ctx]
  /** The groups the loss is made of; an example is in at most one group. */
  groups: Group[];
  /** The default run name, e.g. "modular_add_113" or "oocl_ssq_113_0.6_0.6_1_1_1". */
  runName: string;
  /** What `split.json` holds: each split's indices as plain arrays, ready for `JSON.stringify`. */
  split(): Record<string, unknown>;
}

/**
 * Splits examples by shuffling *units* (sets of examples that must stay together, such as the two
 * orders of a pair): `unitOf[i]` is example `i`'s unit in `[0, nUnits)`, or -1 for an example in
 * neither side. The units are put in the order of `permutation(nUnits, { rng })`; the examples of
 * the first `nChosen` units form `chosen`, the rest `rest`. Both come out ascending, since the
 * examples are read in index order.
 *
 * @example
 * ```ts
 * import { Rng } from "../tensor/mod.ts";
 * import { shuffleSplit } from "./task.ts";
 * // examples 0 and 3 form unit 0, 1 is unit 1, 2 is excluded
 * const { chosen, rest } = shuffleSplit(Int32Array.of(0, 1, -1, 0), 2, 1, new Rng(0));
 * chosen.length + rest.length; // 3: [0, 3] on one side and [1] on the other
 * ```
 */
export function shuffleSplit(
  unitOf: Int32Array,
  nUnits: number,
  nChosen: number,
  rng: Rng,
): { chosen: Int32Array; rest: Int32Array } {
  if (!Number.isInteger(nChosen) || nChosen < 0 || nChosen > nUnits) {
    throw new RangeError(
      `shuffleSplit: nChosen must be an integer in [0, ${nUnits}], got ${nChosen}`,
    );
  }
  const order = permutation(nUnits, { rng }).data as Int32Array;
  const isChosen = new Uint8Array(nUnits);
  for (let k = 0; k < nChosen; k++) isChosen[order[k]!] = 1;
  let nChosenExamples = 0;
  let nRestExamples = 0;
  for (const u of unitOf) {
    if (u < 0) continue;
    if (isChosen[u]) nChosenExamples++;
    else nRestExamples++;
  }
  const chosen = new Int32Array(nChosenExamples);
  const rest = new Int32Array(nRestExamples);
  let c = 0;
  let r = 0;
  for (let i = 0; i < unitOf.length; i++) {
    const u = unitOf[i]!;
    if (u < 0) continue;
    if (isChosen[u]) chosen[c++] = i;
    else rest[r++] = i;
  }
  return { chosen, rest };
}

/**
 * A group's split as plain arrays, the form `split.json` stores.
 *
 * @example
 * ```ts
 * import { splitOf } from "./task.ts";
 * const g = { name: "all", train: Int32Array.of(0, 2), test: Int32Array.of(1), weight: 1 };
 * splitOf(g); // { train: [0, 2], test: [1] }
 * ```
 */
export function splitOf(group: Group): { train: number[]; test: number[] } {
  return { train: Array.from(group.train), test: Array.from(group.test) };
}

/**
 * Checks a data seed (it seeds the `Rng` that draws the splits), naming the flag on failure.
 *
 * @example
 * ```ts
 * import { checkDataSeed } from "./task.ts";
 * checkDataSeed(0); // passes; checkDataSeed(1.5) throws "--data-seed 1.5: must be a safe integer"
 * ```
 */
export function checkDataSeed(data_seed: number): void {
  if (!Number.isSafeInteger(data_seed)) {
    throw new RangeError(`--data-seed ${data_seed}: must be a safe integer`);
  }
}

/** The most examples of a sequence task: 2²⁰ rows. */
export const MAX_EXAMPLES = 1 << 20;

/** Options of a task made of distinct drawn strings, split by example (brackets, strings). */
export interface DrawnOptions {
  /** How many distinct strings: an integer in `[4, MAX_EXAMPLES]`. */
  n_examples: number;
  /** Fraction of the strings that train, strictly between 0 and 1. */
  frac_train: number;
  /** Seeds the `Rng` that draws the strings and the split. */
  data_seed: number;
}

/**
 * Checks that `v` is an integer in `[min, max]`, naming the flag on failure.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./task.ts";
 * checkInteger("--max-len", 8, 1, 64); // passes; with 0 it throws "--max-len 0: must be an integer from 1 to 64"
 * ```
 */
export function checkInteger(flag: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${flag} ${v}: must be an integer from ${min} to ${max}`);
  }
}

/**
 * Checks a train fraction: strictly between 0 and 1, naming `--frac-train` otherwise.
 *
 * @example
 * ```ts
 * import { checkFracTrain } from "./task.ts";
 * checkFracTrain(0.9); // passes; checkFracTrain(1) throws "--frac-train 1: must be strictly between 0 and 1"
 * ```
 */
export function checkFracTrain(frac_train: number): void {
  if (!(frac_train > 0 && frac_train < 1)) {
    throw new RangeError(`--frac-train ${frac_train}: must be strictly between 0 and 1`);
  }
}

/**
 * How many of `count` examples train: `⌊frac_train · count⌋`, checked to leave at least one
 * example on each side (a one-line `RangeError` naming `--frac-train` and, as `of`, the count
 * otherwise).
 *
 * @example
 * ```ts
 * import { trainCount } from "./task.ts";
 * trainCount(0.9, 25); // 22
 * // trainCount(0.99, 25) throws "--frac-train 0.99: leaves 24 of 25 examples to train; both sides need one"
 * // trainCount(0.05, 10, "--n-seqs 10") throws "--frac-train 0.05: leaves 0 of --n-seqs 10 to train; ..."
 * ```
 */
export function trainCount(frac_train: number, count: number, of = `${count} examples`): number {
  checkFracTrain(frac_train);
  const nTrain = Math.floor(frac_train * count);
  if (nTrain === 0 || nTrain === count) {
    throw new RangeError(
      `--frac-train ${frac_train}: leaves ${nTrain} of ${of} to train; both sides need one`,
    );
  }
  return nTrain;
}

/**
 * Examples of different lengths as `[N, n_ctx]` rows: each example's tokens then `pad` to the end
 * of its row, and its targets then `IGNORE` (a padded position is never scored).
 *
 * @example
 * ```ts
 * import { IGNORE, packRows } from "./task.ts";
 * const { tokens, targets } = packRows([{ tokens: [4, 2, 5], targets: [IGNORE, IGNORE, 1] }], 5, 6);
 * [...tokens]; // [4, 2, 5, 6, 6]
 * [...targets]; // [-1, -1, 1, -1, -1]
 * ```
 */
export function packRows(
  examples: readonly { tokens: readonly number[]; targets: readonly number[] }[],
  n_ctx: number,
  pad: number,
): { tokens: Int32Array; targets: Int32Array } {
  const tokens = new Int32Array(examples.length * n_ctx).fill(pad); // [N, n_ctx]
  const targets = new Int32Array(examples.length * n_ctx).fill(IGNORE); // [N, n_ctx]
  examples.forEach((e, n) => {
    tokens.set(e.tokens, n * n_ctx);
    targets.set(e.targets, n * n_ctx);
  });
  return { tokens, targets };
}

/**
 * Draws `count` strings that are in none of `seen` and differ from each other (each is added to
 * `seen`), calling `draw` at most 50 times per string wanted; a one-line `RangeError` naming
 * `flag` when the strings run out first, since the flag asked for more than exist.
 *
 * @example
 * ```ts
 * import { Rng } from "../tensor/mod.ts";
 * import { drawDistinct } from "./task.ts";
 * const rng = new Rng(0);
 * const s = drawDistinct(3, () => "ab"[rng.int(2)]! + "ab"[rng.int(2)]!, new Set(), "--n-examples 6");
 * new Set(s).size; // 3
 * ```
 */
export function drawDistinct(
  count: number,
  draw: () => string,
  seen: Set<string>,
  flag: string,
): string[] {
  const out: string[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries >= 50 * count) {
      throw new RangeError(
        `${flag}: found only ${out.length} of ${count} distinct strings in ${tries} draws; ask for fewer or longer ones`,
      );
    }
    const s = draw();
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
  }
  return out;
}

/** Where each example of a task stands: what `exampleSplits` returns. */
export interface ExampleSplits {
  /** `[N]`: the index of the example's group in `task.groups`, -1 in none. */
  group: Int32Array;
  /** `[N]`: 0 train, 1 held out, -1 in no group. */
  split: Int32Array;
  /** Every group's train examples, ascending. */
  train: Int32Array;
  /** Every group's held-out examples, ascending. */
  test: Int32Array;
}

/**
 * Each example's group and split, and the train and held-out examples of all groups together.
 *
 * @example
 * ```ts
 * import { exampleSplits } from "./task.ts";
 * import { modularTask } from "./modular.ts";
 * const s = exampleSplits(modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 }));
 * [s.train.length, s.test.length]; // [10, 15]
 * s.group.every((g) => g === 0); // true: one group, "all"
 * ```
 */
export function exampleSplits(task: TaskData): ExampleSplits {
  const N = task.tokens.length / task.n_ctx;
  const group = new Int32Array(N).fill(-1);
  const split = new Int32Array(N).fill(-1);
  task.groups.forEach((g, gi) => {
    for (const i of g.train) [split[i], group[i]] = [0, gi];
    for (const i of g.test) [split[i], group[i]] = [1, gi];
  });
  const where = (s: number) => Int32Array.from(split.keys()).filter((i) => split[i] === s);
  return { group, split, train: where(0), test: where(1) };
}

/**
 * Each example's number of scored positions (targets that are not `IGNORE`).
 *
 * @example
 * ```ts
 * import { IGNORE, scoredCounts } from "./task.ts";
 * scoredCounts(Int32Array.of(IGNORE, 4, 5, 6), 2); // Int32Array [1, 2]
 * ```
 */
export function scoredCounts(targets: Int32Array, n_ctx: number): Int32Array {
  const counts = new Int32Array(targets.length / n_ctx);
  targets.forEach((t, i) => {
    if (t !== IGNORE) counts[Math.floor(i / n_ctx)]! += 1;
  });
  return counts;
}

/**
 * Whether every example scores its last position and no other: the tasks that answer once at the
 * end (modular arithmetic, the out-of-context tables, brackets). Their logits are needed at that
 * position only, which the GPU model then computes alone.
 *
 * @example
 * ```ts
 * import { IGNORE, scoresLastOnly } from "./task.ts";
 * scoresLastOnly(Int32Array.of(IGNORE, 4, IGNORE, 6), 2); // true
 * scoresLastOnly(Int32Array.of(3, 4, IGNORE, 6), 2); // false
 * ```
 */
export function scoresLastOnly(targets: Int32Array, n_ctx: number): boolean {
  return targets.every((t, i) => (t !== IGNORE) === (i % n_ctx === n_ctx - 1));
}

/**
 * `[N]`: each example's target at its last position, for a task that scores only there; a
 * one-line error otherwise (the analyses of one-answer tasks read it).
 *
 * @example
 * ```ts
 * import { lastTargets } from "./task.ts";
 * import { modularTask } from "./modular.ts";
 * lastTargets(modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 }))[7]; // (1 + 2) mod 5 = 3
 * ```
 */
export function lastTargets(task: TaskData): Int32Array {
  if (!scoresLastOnly(task.targets, task.n_ctx)) {
    throw new RangeError(`task ${task.task} scores other positions than the last`);
  }
  return lastColumn(task.targets, task.n_ctx);
}

/**
 * `[N]`: the last column of `[N, n_ctx]` targets.
 *
 * @example
 * ```ts
 * import { lastColumn } from "./task.ts";
 * lastColumn(Int32Array.of(-1, 4, -1, 6), 2); // Int32Array [4, 6]
 * ```
 */
export function lastColumn(targets: Int32Array, n_ctx: number): Int32Array {
  const N = targets.length / n_ctx;
  return Int32Array.from({ length: N }, (_, n) => targets[n * n_ctx + n_ctx - 1]!);
}
