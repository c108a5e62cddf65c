/**
 * Modular arithmetic, the grokking task (Power et al. 2022; Nanda et al. 2023): learn
 * `z = op(x, y) mod p` from a fraction of the table and generalise to the rest.
 *
 * Encoding. Each example is three tokens `[x, y, =]`: the operands `0..p-1` are their own token
 * ids and `=` is token `p`, so `d_vocab = p + 1`. The model reads all three and predicts `z` at
 * the last position (the `=`); it only ever predicts a number, so `d_vocab_out = p`. With
 * p = 113 and op "add", `[5, 110, 113]` has target `(5 + 110) mod 113 = 2`.
 *
 * Examples. Example `i` is `(x, y) = (⌊i/p⌋, i mod p)` for `i` in `[0, p²)`, the whole table in
 * row-major order, so an analysis can reshape any per-example quantity to `[p, p]` over (x, y).
 * For `div` (`x · y⁻¹`) the column y = 0 has no answer: those rows stay in `tokens` (with target 0
 * as a placeholder, so the table keeps its shape) but are in neither split.
 *
 * Split. The valid examples are shuffled by `permutation` from `Rng(data_seed)`; the first
 * `⌊frac_train · count⌋` train, the rest test, as the reference code's
 * `int(frac_train * len(pairs))` (p = 113, frac 0.3: 3,830 of 12,769 train).
 *
 * @module
 */

import { Rng } from "../tensor/mod.ts";
import {
  checkDataSeed,
  checkFracTrain,
  checkInteger,
  IGNORE,
  shuffleSplit,
  splitOf,
  type TaskData,
} from "./task.ts";

/** The binary operations, each taken mod p. */
export const MODULAR_OPS = ["add", "sub", "mul", "div", "ssq", "x2xyy2", "x3xy"] as const;

/** One of `MODULAR_OPS`: add x+y, sub x−y, mul x·y, div x·y⁻¹, ssq x²+y², x2xyy2 x²+xy+y², x3xy x³+xy. */
export type ModularOp = typeof MODULAR_OPS[number];

/** The largest modulus: it keeps the vocabulary (and the p² table) small enough to hold at once. */
export const MAX_P = 4093;

/** Options of `modularTask`. */
export interface ModularOptions {
  /** One of `MODULAR_OPS`; a string so a flag's value passes straight in (checked at run time). */
  op: string;
  /** The modulus, an integer in `[2, MAX_P]`; prime for `div`. */
  p: number;
  /** Fraction of the valid examples that train, strictly between 0 and 1. */
  frac_train: number;
  /** Seeds the `Rng` whose permutation makes the split. */
  data_seed: number;
}

/** The grokking paper's task: (x + y) mod 113, 30% of the pairs to train, data seed 0. */
export const DEFAULT_MODULAR: Readonly<ModularOptions> = Object.freeze({
  op: "add",
  p: 113,
  frac_train: 0.3,
  data_seed: 0,
});

/**
 * Whether `op` is defined only when p is prime (`div` needs every nonzero y to be invertible).
 *
 * @example
 * ```ts
 * import { opNeedsPrime } from "./modular.ts";
 * opNeedsPrime("div"); // true
 * opNeedsPrime("add"); // false
 * ```
 */
export function opNeedsPrime(op: ModularOp): boolean {
  return op === "div";
}

/**
 * Whether the integer `n` is prime (trial division; n is at most `MAX_P` here).
 *
 * @example
 * ```ts
 * import { isPrime } from "./modular.ts";
 * [2, 9, 113].map(isPrime); // [true, false, true]
 * ```
 */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/**
 * Checks an op name and a modulus together, throwing a one-line `RangeError` that names the flag;
 * returns the op typed. Shared by every task built on a modular table.
 *
 * @example
 * ```ts
 * import { checkModulus } from "./modular.ts";
 * checkModulus("div", 113); // "div"
 * // checkModulus("div", 12) throws "--p 12: op div needs a prime p"
 * ```
 */
export function checkModulus(op: string, p: number): ModularOp {
  if (!(MODULAR_OPS as readonly string[]).includes(op)) {
    throw new RangeError(`--op ${op}: unknown op; known ops: ${MODULAR_OPS.join(", ")}`);
  }
  checkInteger("--p", p, 2, MAX_P);
  const known = op as ModularOp;
  if (opNeedsPrime(known) && !isPrime(p)) {
    throw new RangeError(`--p ${p}: op ${op} needs a prime p`);
  }
  return known;
}

/**
 * The whole operation table: entry `x · p + y` is `op(x, y) mod p` in `[0, p)`, or -1 where it is
 * undefined (`div` with y = 0). `op` and `p` must already have passed `checkModulus`.
 *
 * @example
 * ```ts
 * import { opTable } from "./modular.ts";
 * opTable("sub", 3); // Int32Array [0, 2, 1, 1, 0, 2, 2, 1, 0]: row x, column y
 * ```
 */
export function opTable(op: ModularOp, p: number): Int32Array {
  const out = new Int32Array(p * p); // [x, y]
  const inverse = op === "div" ? inverses(p) : undefined;
  for (let x = 0; x < p; x++) {
    for (let y = 0; y < p; y++) {
      // Every intermediate is below p³ + p² < 2^37, exact in a double.
      let z: number;
      switch (op) {
        case "add":
          z = x + y;
          break;
        case "sub":
          z = x - y + p;
          break;
        case "mul":
          z = x * y;
          break;
        case "div":
          z = y === 0 ? -1 : x * inverse![y]!;
          break;
        case "ssq":
          z = x * x + y * y;
          break;
        case "x2xyy2":
          z = x * x + x * y + y * y;
          break;
        case "x3xy":
          z = x * x * x + x * y;
          break;
      }
      out[x * p + y] = z < 0 ? -1 : z % p;
    }
  }
  return out;
}

/**
 * The modular arithmetic task: every `[x, y, =]` with its answer, and the seeded train/test split
 * (one group "all", weight 1). Throws a one-line `RangeError` for a bad option.
 *
 * @example
 * ```ts
 * import { modularTask } from "./modular.ts";
 * const task = modularTask({ op: "add", p: 113, frac_train: 0.3, data_seed: 0 });
 * task.vocab.d_vocab; // 114
 * task.groups[0]!.train.length; // 3830
 * task.runName; // "modular_add_113"
 * ```
 */
export function modularTask(options: ModularOptions): TaskData {
  const { p, frac_train, data_seed } = options;
  const op = checkModulus(options.op, p);
  checkFracTrain(frac_train);
  checkDataSeed(data_seed);

  const n = p * p;
  const table = opTable(op, p);
  const tokens = new Int32Array(n * 3); // [N, n_ctx]
  const targets = new Int32Array(n * 3).fill(IGNORE); // [N, n_ctx]: the answer at "="
  const unitOf = new Int32Array(n); // each valid example is its own unit, numbered in order
  let count = 0;
  for (let i = 0; i < n; i++) {
    tokens[3 * i] = Math.floor(i / p);
    tokens[3 * i + 1] = i % p;
    tokens[3 * i + 2] = p;
    const z = table[i]!;
    targets[3 * i + 2] = Math.max(z, 0);
    unitOf[i] = z < 0 ? -1 : count++;
  }
  // The floor, not rounding, to match the reference's int(frac_train * len(pairs)).
  const nTrain = Math.floor(frac_train * count);
  // (frac_train < 1 makes nTrain < count, so the test side is never empty.)
  if (nTrain === 0) {
    throw new RangeError(
      `--frac-train ${frac_train}: leaves no training examples of the ${count} for p ${p}`,
    );
  }
  const { chosen, rest } = shuffleSplit(unitOf, count, nTrain, new Rng(data_seed));
  const all = { name: "all", train: chosen, test: rest, weight: 1 };

  const labels = Array.from({ length: p }, (_, i) => String(i));
  labels.push("=");
  return {
    task: "modular",
    vocab: { d_vocab: p + 1, d_vocab_out: p, labels },
    n_ctx: 3,
    tokens,
    targets,
    groups: [all],
    runName: `modular_${op}_${p}`,
    split: () => splitOf(all),
  };
}

/** `inv[y]` with `y · inv[y] ≡ 1 (mod p)` for y in `[1, p)`, by the extended Euclidean algorithm
 * (p prime, so each exists); `inv[0]` is unused. */
function inverses(p: number): Int32Array {
  const inv = new Int32Array(p);
  for (let y = 1; y < p; y++) {
    let [r0, r1] = [p, y];
    let [t0, t1] = [0, 1];
    while (r1 !== 0) {
      const q = Math.floor(r0 / r1);
      [r0, r1] = [r1, r0 - q * r1];
      [t0, t1] = [t1, t0 - q * t1];
    }
    inv[y] = ((t0 % p) + p) % p;
  }
  return inv;
}
