/**
 * Balanced parentheses, as ARENA 1.5.1 ("Balanced bracket classifier"): is a string of `(` and
 * `)` balanced (every prefix has at least as many `(` as `)`, and the whole has as many of each)?
 * Unlike ARENA's bidirectional model, ours is causal, so it answers at an `<end>` token that has
 * seen the whole string.
 *
 * Encoding. Token ids: 0 `<unbalanced>`, 1 `<balanced>` (the two answers, so `d_vocab_out = 2`
 * and output 1 is ARENA's "balanced" class), 2 `(`, 3 `)`, 4 `<bos>`, 5 `<end>`, 6 `<pad>`
 * (`d_vocab = 7`). A string s of length 1 to `max_len` is the row `<bos> s <end>` padded on the
 * right with `<pad>` to `n_ctx = max_len + 2`; only the `<end>` position is scored, its target the
 * answer. With max_len 4, `()` is `[4, 2, 3, 5, 6, 6]` with target 1 at position 3, and `)(` the
 * same shape with target 0. Padding after `<end>` never reaches it: attention is causal.
 *
 * Examples. Half are balanced: a length 2k with k uniform in `[1, max_len / 2]`, then a uniformly
 * random balanced string of that length (a walk whose each step is weighted by how many balanced
 * completions it leaves). The other half cycles through three kinds, so the model cannot answer
 * by one count: equal numbers of `(` and `)` that dip below zero somewhere (a shuffle of k of
 * each, not balanced); strings that never dip but end above zero (uniform among such walks of a
 * length uniform in `[1, max_len]`); and uniformly random strings that are not balanced. Each
 * string appears once (the draws are deduplicated), so a held-out string was never trained on.
 *
 * Split. Each example is a unit of `shuffleSplit` with `Rng(data_seed)` after the draws: the first
 * `⌊frac_train · n_examples⌋` of the permutation train, the rest test.
 *
 * @module
 */

import { permutation, Rng } from "../tensor/mod.ts";
import {
  checkDataSeed,
  checkInteger,
  drawDistinct,
  type DrawnOptions,
  IGNORE,
  MAX_EXAMPLES,
  packRows,
  shuffleSplit,
  splitOf,
  type TaskData,
  trainCount,
} from "./task.ts";

/** Options of `bracketsTask` (half of the `n_examples` strings are balanced). */
export interface BracketsOptions extends DrawnOptions {
  /** The longest string, an even integer in `[2, MAX_BRACKETS_LEN]`: `n_ctx = max_len + 2`. */
  max_len: number;
}

/** The longest string: n_ctx 512, and the walk counts (at most C(510, 255) ≈ 10¹⁵²) stay finite. */
export const MAX_BRACKETS_LEN = 510;

/** Strings up to 20 long (n_ctx 22), 8,000 of them, 80% to train. */
export const DEFAULT_BRACKETS: Readonly<BracketsOptions> = Object.freeze({
  max_len: 20,
  n_examples: 8000,
  frac_train: 0.8,
  data_seed: 0,
});

/** The token labels, by id. */
export const BRACKETS_LABELS = ["<unbalanced>", "<balanced>", "(", ")", "<bos>", "<end>", "<pad>"];

/** What a string is, for the mix of examples. */
export type BracketsKind = "balanced" | "equal_dips" | "never_dips" | "other";

/**
 * Which kind `s` (of `(` and `)`) is: balanced, equal counts that dip below zero, never dipping
 * but ending above zero, or any other unbalanced string.
 *
 * @example
 * ```ts
 * import { bracketsKind } from "./brackets.ts";
 * ["(())", ")(()", "(()", "())"].map(bracketsKind);
 * // ["balanced", "equal_dips", "never_dips", "other"]
 * ```
 */
export function bracketsKind(s: string): BracketsKind {
  let height = 0;
  let dipped = false;
  for (const c of s) {
    height += c === "(" ? 1 : -1;
    if (height < 0) dipped = true;
  }
  if (!dipped) return height === 0 ? "balanced" : "never_dips";
  return height === 0 ? "equal_dips" : "other";
}

/**
 * A uniformly random string of `n` brackets among those whose running height (`(` up, `)` down)
 * never goes below zero and ends at a height `endOk` accepts, or undefined if there is none.
 * Each step is weighted by the number of allowed completions after it.
 *
 * @example
 * ```ts
 * import { permutation, Rng } from "../tensor/mod.ts";
 * import { nonNegativeWalk } from "./brackets.ts";
 * nonNegativeWalk(2, (h) => h === 0, new Rng(0)); // "()": the only balanced string of 2
 * ```
 */
export function nonNegativeWalk(
  n: number,
  endOk: (height: number) => boolean,
  rng: Rng,
): string | undefined {
  // ways[r][h]: walks of r more steps from height h, never below 0, ending where endOk says.
  const ways = [Float64Array.from({ length: n + 2 }, (_, h) => endOk(h) ? 1 : 0)];
  for (let r = 1; r <= n; r++) {
    const prev = ways[r - 1]!;
    ways.push(
      Float64Array.from({ length: n + 2 }, (_, h) => (prev[h + 1] ?? 0) + (prev[h - 1] ?? 0)),
    );
  }
  if (ways[n]![0] === 0) return undefined;
  let s = "";
  let h = 0;
  for (let r = n; r > 0; r--) {
    const up = ways[r - 1]![h + 1]!;
    const open = rng.uniform() * ways[r]![h]! < up;
    s += open ? "(" : ")";
    h += open ? 1 : -1;
  }
  return s;
}

/**
 * The balanced-brackets task: `n_examples` distinct strings, half balanced, each row
 * `<bos> s <end> <pad>…` scored at `<end>`, and the seeded split (one group "all", weight 1).
 * Throws a one-line `RangeError` naming the flag for a bad option.
 *
 * @example
 * ```ts
 * import { bracketsTask } from "./brackets.ts";
 * const t = bracketsTask({ max_len: 4, n_examples: 8, frac_train: 0.75, data_seed: 0 });
 * [t.vocab.d_vocab, t.vocab.d_vocab_out, t.n_ctx]; // [7, 2, 6]
 * [t.groups[0]!.train.length, t.groups[0]!.test.length]; // [6, 2]
 * t.runName; // "brackets_4"
 * ```
 */
export function bracketsTask(options: BracketsOptions): TaskData {
  const { max_len, n_examples, frac_train, data_seed } = options;
  checkInteger("--max-len", max_len, 2, MAX_BRACKETS_LEN);
  if (max_len % 2 !== 0) throw new RangeError(`--max-len ${max_len}: must be even`);
  checkInteger("--n-examples", n_examples, 4, MAX_EXAMPLES);
  const nTrain = trainCount(frac_train, n_examples);
  checkDataSeed(data_seed);

  const rng = new Rng(data_seed);
  const half = max_len / 2;
  const length = () => 1 + rng.int(max_len);
  const evenLength = () => 2 * (1 + rng.int(half));
  const seen = new Set<string>();
  const flag = `--n-examples ${n_examples}`;
  const nBalanced = Math.ceil(n_examples / 2);
  const balanced = drawDistinct(
    nBalanced,
    () => nonNegativeWalk(evenLength(), (h) => h === 0, rng)!,
    seen,
    `${flag} (balanced strings up to --max-len ${max_len})`,
  );
  // Each draw of an unbalanced string is of the next kind in turn; one that is balanced is redrawn.
  const kinds = [
    () => equalCounts(evenLength() / 2, rng),
    () => nonNegativeWalk(length(), (h) => h > 0, rng)!,
    () => Array.from({ length: length() }, () => "()"[rng.int(2)]).join(""),
  ];
  let turn = 0;
  const unbalanced = drawDistinct(
    n_examples - nBalanced,
    () => {
      const draw = kinds[turn++ % kinds.length]!;
      let s = draw();
      while (bracketsKind(s) === "balanced") s = draw();
      return s;
    },
    seen,
    flag,
  );

  const strings = [...balanced, ...unbalanced];
  const T = max_len + 2;
  const [bos, end, pad] = [4, 5, 6];
  const rows = strings.map((s) => {
    const tokens = [bos, ...Array.from(s, (c) => (c === "(" ? 2 : 3)), end];
    const targets = tokens.map(() => IGNORE);
    targets[s.length + 1] = bracketsKind(s) === "balanced" ? 1 : 0;
    return { tokens, targets };
  });
  const { tokens, targets } = packRows(rows, T, pad);
  const unitOf = Int32Array.from(strings.keys());
  const { chosen, rest } = shuffleSplit(unitOf, n_examples, nTrain, rng);
  const all = { name: "all", train: chosen, test: rest, weight: 1 };
  return {
    task: "brackets",
    vocab: { d_vocab: BRACKETS_LABELS.length, d_vocab_out: 2, labels: [...BRACKETS_LABELS] },
    n_ctx: T,
    tokens,
    targets,
    groups: [all],
    runName: `brackets_${max_len}`,
    split: () => splitOf(all),
  };
}

/** k `(` and k `)` in a uniformly random order. */
function equalCounts(k: number, rng: Rng): string {
  const chars = "(".repeat(k) + ")".repeat(k);
  return Array.from(permutation(2 * k, { rng }).data, (i) => chars[i]).join("");
}
