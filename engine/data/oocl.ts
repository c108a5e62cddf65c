/**
 * The out-of-context experiment (AISC, ancri/mechinterp `oocl.py`): can a model answer a table it
 * mostly never saw by connecting it, through definitions, to a table it did see?
 *
 * Vocabulary (2p + 4 ids): originals `0..p-1`; aliases `p..2p-1`, where `i + p` is the alias of
 * `i` (shown as "x'i"); then `=` (2p), `true` (2p+1), `false` (2p+2) and `define` (2p+3). Inputs
 * and outputs share it: `d_vocab = d_vocab_out = 2p + 4`, as in their TransformerLens config.
 *
 * Examples (n_ctx = 4, the answer predicted at the last position, the `=`):
 * - table 1, index `x · p + y`: `[true, x, y, =] → z` with `z = op(x, y) mod p` (default `ssq`,
 *   x² + y²; any op of `modular.ts`, with `div`'s y = 0 rows in no split);
 * - table 2, index `p² + x · p + y`: the same table over aliases, `[true, x+p, y+p, =] → z + p`;
 * - links, index `2p² + i`: `[define, define, i, =] → i + p`, then at `2p² + p + i` the other
 *   direction `[define, define, i + p, =] → i`.
 *
 * Groups: `table1` and `table2` each hold out their own random fraction (holdout1, holdout2) to
 * test, drawn one after the other from the one `Rng(data_seed)`, so the two masks are independent
 * and a pair held out of one table is usually trained in the other: that is what the links can
 * carry across. `links` always train (test empty). The loss is `k1·L_table1 + k2·L_table2 +
 * k3·L_links`; the question is a setting where (1, 0, 0) fails to generalise and (1, 1, 1) does.
 *
 * The masks are over ordered pairs, as the reference's, so (y, x) of a held-out (x, y) may train,
 * which leaks the answer through commutativity. `symmetric_holdout` closes that leak: it shuffles
 * unordered pairs {x, y} and holds out both orders together. Either way `round(holdout · units)`
 * units are held out; with unordered pairs (a diagonal pair is one example, the others two) the
 * number of held-out examples is within p + 1 of `holdout · p²`.
 *
 * @module
 */

import { Rng } from "../tensor/mod.ts";
import { checkModulus, opTable } from "./modular.ts";
import { checkDataSeed, type Group, IGNORE, shuffleSplit, splitOf, type TaskData } from "./task.ts";

/** Options of `ooclTask`. */
export interface OoclOptions {
  /** An op of `MODULAR_OPS`; a string so a flag's value passes straight in. */
  op: string;
  /** The modulus, as for `modularTask`. */
  p: number;
  /** Fraction of table 1 held out to test, strictly between 0 and 1. */
  holdout1: number;
  /** Fraction of table 2 held out to test, drawn independently of table 1's. */
  holdout2: number;
  /** Loss weight of table 1 (finite, ≥ 0). */
  k1: number;
  /** Loss weight of table 2. */
  k2: number;
  /** Loss weight of the links. */
  k3: number;
  /** Seeds the `Rng` that draws both holdouts (table 1's first). */
  data_seed: number;
  /** Hold out unordered pairs, both orders together, so commutativity cannot leak the answer. */
  symmetric_holdout: boolean;
}

/**
 * The experiment as its README states it: x² + y², 60% of each table held out, all three losses
 * on. p = 113 as the grokking task, so the two kinds of run compare at the same modulus.
 */
export const DEFAULT_OOCL: Readonly<OoclOptions> = Object.freeze({
  op: "ssq",
  p: 113,
  holdout1: 0.6,
  holdout2: 0.6,
  k1: 1,
  k2: 1,
  k3: 1,
  data_seed: 0,
  symmetric_holdout: false,
});

/** The ids of the four special tokens for modulus p. */
export interface OoclSpecialTokens {
  /** `=`: 2p, the position the answer is read at. */
  equal: number;
  /** `true`: 2p + 1, the first token of every table example. */
  true: number;
  /** `false`: 2p + 2, in the vocabulary (the reference's "not-random") but in no example. */
  false: number;
  /** `define`: 2p + 3, the first two tokens of every link. */
  define: number;
}

/**
 * The special tokens' ids, which follow the 2p numbers.
 *
 * @example
 * ```ts
 * import { ooclSpecialTokens } from "./oocl.ts";
 * ooclSpecialTokens(3); // { equal: 6, true: 7, false: 8, define: 9 }
 * ```
 */
export function ooclSpecialTokens(p: number): OoclSpecialTokens {
  return { equal: 2 * p, true: 2 * p + 1, false: 2 * p + 2, define: 2 * p + 3 };
}

/**
 * The out-of-context task: both tables, the links, and their groups "table1", "table2", "links"
 * with weights k1, k2, k3. Throws a one-line `RangeError` for a bad option.
 *
 * @example
 * ```ts
 * import { DEFAULT_OOCL, ooclTask } from "./oocl.ts";
 * const task = ooclTask({ ...DEFAULT_OOCL, p: 7 });
 * task.vocab.d_vocab; // 18
 * task.groups.map((g) => g.name); // ["table1", "table2", "links"]
 * task.runName; // "oocl_ssq_7_0.6_0.6_1_1_1"
 * ```
 */
export function ooclTask(options: OoclOptions): TaskData {
  const { p, holdout1, holdout2, k1, k2, k3, data_seed, symmetric_holdout } = options;
  const op = checkModulus(options.op, p);
  for (const [flag, h] of [["--holdout1", holdout1], ["--holdout2", holdout2]] as const) {
    if (!(h > 0 && h < 1)) throw new RangeError(`${flag} ${h}: must be strictly between 0 and 1`);
  }
  for (const [flag, k] of [["--k1", k1], ["--k2", k2], ["--k3", k3]] as const) {
    if (!(Number.isFinite(k) && k >= 0)) {
      throw new RangeError(`${flag} ${k}: must be a finite number >= 0`);
    }
  }
  if (k1 === 0 && k2 === 0 && k3 === 0) {
    throw new RangeError("--k1 0 --k2 0 --k3 0: at least one loss weight must be positive");
  }
  checkDataSeed(data_seed);

  const pp = p * p;
  const n = 2 * pp + 2 * p;
  const special = ooclSpecialTokens(p);
  const table = opTable(op, p);
  const tokens = new Int32Array(n * 4); // [N, n_ctx]
  const targets = new Int32Array(n * 4).fill(IGNORE); // [N, n_ctx]: the answer at "="
  function put(i: number, a: number, b: number, c: number, target: number): void {
    tokens[4 * i] = a;
    tokens[4 * i + 1] = b;
    tokens[4 * i + 2] = c;
    tokens[4 * i + 3] = special.equal;
    targets[4 * i + 3] = target;
  }
  for (let i = 0; i < pp; i++) {
    const x = Math.floor(i / p);
    const y = i % p;
    // div's y = 0 rows get a placeholder answer: they are in no split.
    const z = Math.max(table[i]!, 0);
    put(i, special.true, x, y, z);
    put(pp + i, special.true, x + p, y + p, z + p);
  }
  for (let i = 0; i < p; i++) {
    put(2 * pp + i, special.define, special.define, i, i + p);
    put(2 * pp + p + i, special.define, special.define, i + p, i);
  }

  const { unitOf, nUnits } = holdoutUnits(table, p, symmetric_holdout);
  const what = symmetric_holdout ? "unordered pairs" : "pairs";
  const rng = new Rng(data_seed);
  function holdOut(name: string, flag: string, h: number, k: number, offset: number): Group {
    const nHeld = Math.round(h * nUnits);
    if (nHeld === 0 || nHeld === nUnits) {
      const amount = nHeld === 0 ? "none" : "all";
      throw new RangeError(`${flag} ${h}: holds out ${amount} of the ${nUnits} ${what} for p ${p}`);
    }
    // Drawn from the shared stream: table 2's permutation continues where table 1's stopped.
    const { chosen, rest } = shuffleSplit(unitOf, nUnits, nHeld, rng);
    return { name, train: shift(rest, offset), test: shift(chosen, offset), weight: k };
  }
  const table1 = holdOut("table1", "--holdout1", holdout1, k1, 0);
  const table2 = holdOut("table2", "--holdout2", holdout2, k2, pp);
  const linkIndices = Int32Array.from({ length: 2 * p }, (_, i) => 2 * pp + i);
  const links = { name: "links", train: linkIndices, test: new Int32Array(0), weight: k3 };

  const labels = Array.from({ length: 2 * p }, (_, i) => (i < p ? String(i) : `x'${i - p}`));
  labels.push("=", "true", "false", "define");
  return {
    task: "oocl",
    vocab: { d_vocab: 2 * p + 4, d_vocab_out: 2 * p + 4, labels },
    n_ctx: 4,
    tokens,
    targets,
    groups: [table1, table2, links],
    runName: `oocl_${op}_${p}_${holdout1}_${holdout2}_${k1}_${k2}_${k3}`,
    split: () => ({ table1: splitOf(table1), table2: splitOf(table2), links: splitOf(links) }),
  };
}

/**
 * The units a table's holdout shuffles, over the table's p² pairs (-1: undefined, in no split).
 * Ordered: each defined pair is a unit, numbered in index order. Symmetric: the unordered pair
 * {a, b}, numbered in the order of (min, max), covers the defined ones of (a, b) and (b, a).
 */
function holdoutUnits(
  table: Int32Array,
  p: number,
  symmetric: boolean,
): { unitOf: Int32Array; nUnits: number } {
  const unitOf = new Int32Array(p * p).fill(-1); // [x, y]
  let nUnits = 0;
  if (!symmetric) {
    for (let i = 0; i < p * p; i++) if (table[i]! >= 0) unitOf[i] = nUnits++;
    return { unitOf, nUnits };
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const ab = a * p + b;
      const ba = b * p + a;
      if (table[ab]! < 0 && table[ba]! < 0) continue;
      if (table[ab]! >= 0) unitOf[ab] = nUnits;
      if (table[ba]! >= 0) unitOf[ba] = nUnits;
      nUnits++;
    }
  }
  return { unitOf, nUnits };
}

/** `indices + offset`: table-local indices to task-wide ones. */
function shift(indices: Int32Array, offset: number): Int32Array {
  return indices.map((i) => i + offset);
}
