/**
 * Repeated random tokens, the task on which induction heads form (Olsson et al. 2022; ARENA 1.2's
 * `generate_repeated_tokens`): random tokens, then the same tokens again, and a causal language
 * model's target at every position.
 *
 * Encoding. The random tokens are ids `0..n_tokens-1`, labelled by their id; `<bos>` is id
 * `n_tokens` and `<pad>` id `n_tokens + 1`, so `d_vocab = n_tokens + 2`. Each example is `<bos>`
 * (as TransformerLens prepends BOS), L random tokens, the same L tokens again, then `<pad>` up to
 * `n_ctx = 1 + 2 · seq_len`. With n_tokens 4, seq_len 3 and L = 2, `[4, 2, 0, 2, 0, 5, 5]` is
 * `<bos> 2 0 2 0 <pad> <pad>`. With L = seq_len the row is ARENA's and the head detectors'
 * sequence.
 *
 * Why L varies. Each row's L is drawn uniformly from `[⌈seq_len / 2⌉, seq_len]`. With one L for
 * every row the repeat sits at a fixed offset and a single layer-0 head solves it by position
 * alone (attend L − 1 tokens back and copy): trained that way, the 2-layer model put its
 * "induction" head in layer 0. A varying offset leaves the general mechanism, a previous-token
 * head feeding an induction head (K-composition). Other layouts were tried and dropped (the
 * segment repeated periodically to fill the row; the repeat at the end after unrepeated tokens):
 * their repeats were learnt without an induction head, no layer-1 head passing 0.1 on the
 * detector in 450 to 1,200 steps (bench/RESULTS.md).
 *
 * Targets. The logits at position t predict token t + 1 (TransformerLens' `lm_cross_entropy_loss`
 * with `per_token`): positions `0..2L-1` are scored; the last real token and the padding are not.
 * `<bos>` and `<pad>` are never targets, so `d_vocab_out = n_tokens`. Positions `0..L-1` predict
 * the first half, which no model can do better than ln(n_tokens) on average; positions `L..2L-1`
 * predict the repeat, which an induction head gets right (at position L it must guess that the
 * repeat begins). Whatever L, positions below ⌈seq_len / 2⌉ predict first-half tokens and
 * positions from seq_len on predict repeated ones, so `mechlab analyze`'s loss per position shows
 * both halves.
 *
 * Examples and split. A fixed pool of `n_seqs` sequences is drawn from `Rng(data_seed)`, row by row
 * (memory `2 · n_seqs · n_ctx` int32s for tokens and targets); the first `⌊frac_train · n_seqs⌋`
 * train and the rest are held out. The rows are independent draws, so a prefix is as random a
 * split as a shuffle.
 *
 * @module
 */

import { Rng } from "../tensor/mod.ts";
import { checkDataSeed, checkInteger, IGNORE, splitOf, type TaskData, trainCount } from "./task.ts";

/** Options of `inductionTask`. */
export interface InductionOptions {
  /** Random token ids, `<bos>` and `<pad>` aside: an integer in `[2, MAX_INDUCTION_TOKENS]`. */
  n_tokens: number;
  /**
   * The longest L, the random tokens before the repeat (ARENA's `seq_len`): an integer in
   * `[1, MAX_SEQ_LEN]`.
   */
  seq_len: number;
  /** Sequences in the pool, train and held out together: an integer in `[2, MAX_SEQS]`. */
  n_seqs: number;
  /** Fraction of the pool that trains, strictly between 0 and 1. */
  frac_train: number;
  /** Seeds the `Rng` that draws the pool. */
  data_seed: number;
}

/** The most random token ids: a vocabulary GPT-2's size. */
export const MAX_INDUCTION_TOKENS = 50257;
/** The longest repeated half: n_ctx = 1 + 2 · 511 = 1,023, within the GPU's 1,024. */
export const MAX_SEQ_LEN = 511;
/** The most sequences in the pool. */
export const MAX_SEQS = 1_000_000;
/** The most tokens in the pool (n_seqs · n_ctx): 2^24, so tokens and targets hold 128 MB. */
export const MAX_POOL_TOKENS = 2 ** 24;

/**
 * The induction preset's task: up to 20 tokens repeated, 20 token ids, 4,000 sequences of which
 * 90% train. A small vocabulary keeps the first half's loss floor (ln 20 ≈ 3.0) low and the model
 * small; 3,600 training rows are enough that the run memorises little (test loss within 0.03 of
 * train at the end) while the evaluation, which runs every row, stays a few seconds.
 */
export const DEFAULT_INDUCTION: Readonly<InductionOptions> = Object.freeze({
  n_tokens: 20,
  seq_len: 20,
  n_seqs: 4000,
  frac_train: 0.9,
  data_seed: 0,
});

/**
 * The repeated-random-tokens task: the pool of `<bos>`, random tokens, the same tokens again and
 * padding, with the next token as target at every position before the last real one (one group
 * "all", weight 1). Throws a one-line `RangeError` naming the flag for a bad option.
 *
 * @example
 * ```ts
 * import { inductionTask } from "./induction.ts";
 * const t = inductionTask({ n_tokens: 4, seq_len: 3, n_seqs: 10, frac_train: 0.8, data_seed: 0 });
 * [t.vocab.d_vocab, t.vocab.d_vocab_out, t.n_ctx]; // [6, 4, 7]
 * t.vocab.labels; // ["0", "1", "2", "3", "<bos>", "<pad>"]
 * [t.groups[0]!.train.length, t.groups[0]!.test.length]; // [8, 2]
 * t.runName; // "induction_4_3"
 * ```
 */
export function inductionTask(options: InductionOptions): TaskData {
  const { n_tokens, seq_len, n_seqs, frac_train, data_seed } = options;
  checkInteger("--n-tokens", n_tokens, 2, MAX_INDUCTION_TOKENS);
  checkInteger("--seq-len", seq_len, 1, MAX_SEQ_LEN);
  checkInteger("--n-seqs", n_seqs, 2, MAX_SEQS);
  const nTrain = trainCount(frac_train, n_seqs, `--n-seqs ${n_seqs}`);
  checkDataSeed(data_seed);
  const T = 1 + 2 * seq_len;
  if (n_seqs * T > MAX_POOL_TOKENS) {
    throw new RangeError(
      `--n-seqs ${n_seqs}: ${n_seqs} sequences of ${T} tokens exceed the pool's ` +
        `${MAX_POOL_TOKENS} tokens`,
    );
  }

  const minLen = Math.ceil(seq_len / 2);
  const rng = new Rng(data_seed);
  const tokens = new Int32Array(n_seqs * T); // [N, n_ctx]
  const targets = new Int32Array(n_seqs * T); // [N, n_ctx]
  const draw = (count: number) => Int32Array.from({ length: count }, () => rng.int(n_tokens));
  for (let n = 0; n < n_seqs; n++) {
    const L = minLen + rng.int(seq_len - minLen + 1);
    const row = repeatedRow(draw(L), n_tokens, T);
    tokens.set(row.tokens, n * T);
    targets.set(row.targets, n * T);
  }
  const all = {
    name: "all",
    train: Int32Array.from({ length: nTrain }, (_, i) => i),
    test: Int32Array.from({ length: n_seqs - nTrain }, (_, i) => nTrain + i),
    weight: 1,
  };
  const labels = Array.from({ length: n_tokens }, (_, i) => String(i));
  labels.push("<bos>", "<pad>");
  return {
    task: "induction",
    vocab: { d_vocab: n_tokens + 2, d_vocab_out: n_tokens, labels },
    n_ctx: T,
    tokens,
    targets,
    groups: [all],
    runName: `induction_${n_tokens}_${seq_len}`,
    split: () => splitOf(all),
  };
}

/**
 * One example: `<bos>` (id `n_tokens`), `segment [L]`, `segment` again, `<pad>` (id
 * `n_tokens + 1`) up to `n_ctx` ≥ 1 + 2L; the targets are the next token at positions `0..2L-1`
 * and `IGNORE` after.
 *
 * @example
 * ```ts
 * import { repeatedRow } from "./induction.ts";
 * const { tokens, targets } = repeatedRow(Int32Array.of(2, 0), 4, 7);
 * tokens; // Int32Array [4, 2, 0, 2, 0, 5, 5]: <bos> 2 0 2 0 <pad> <pad>
 * targets; // Int32Array [2, 0, 2, 0, -1, -1, -1]
 * ```
 */
export function repeatedRow(
  segment: Int32Array,
  n_tokens: number,
  n_ctx: number,
): { tokens: Int32Array; targets: Int32Array } {
  const L = segment.length;
  const tokens = new Int32Array(n_ctx).fill(n_tokens + 1); // [n_ctx]
  tokens[0] = n_tokens;
  tokens.set(segment, 1);
  tokens.set(segment, 1 + L);
  const targets = new Int32Array(n_ctx).fill(IGNORE); // [n_ctx]
  targets.set(tokens.subarray(1, 1 + 2 * L));
  return { tokens, targets };
}
