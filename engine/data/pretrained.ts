/**
 * The task of an imported model (`mechlab import`): no examples, only what its token text needs.
 * A GPT-2 vocabulary (`tokenizer: "gpt2"`, 50,257 tokens) reads and writes text through GPT-2's
 * tokenizer, its labels each token's text; any other size (a test model's) has the ids as labels,
 * written separated by spaces (`3 5 7`).
 *
 * It trains on nothing here, but `mechlab analyze` looks at it on a small synthetic batch
 * (`pretrainedAnalysisTask`): TransformerLens' `generate_repeated_tokens`, BOS then L random
 * tokens then the same L again, the rows the induction task makes.
 *
 * @module
 */

import { MAX_N_CTX } from "../model/config.ts";
import { Rng } from "../tensor/mod.ts";
import { GPT2_VOCAB, gpt2Labels } from "./gpt2_tokenizer.ts";
import { repeatedRow } from "./induction.ts";
import { checkInteger, splitOf, type TaskData, type Vocab } from "./task.ts";

/** What an imported model's token text is. */
export const TOKENIZERS = ["gpt2", "none"] as const;

/** An imported model's settings: where it came from and its vocabulary and context. */
export interface PretrainedOptions {
  /** "gpt2": GPT-2's BPE (`vocab_size` 50,257); "none": token ids as labels. */
  tokenizer: typeof TOKENIZERS[number];
  /** The imported folder's name (`gpt2`), for the record. */
  source: string;
  /** The model's `d_vocab` (`vocab_size`). */
  d_vocab: number;
  /** The model's `n_ctx` (`n_positions`). */
  n_ctx: number;
}

/** GPT-2 small's shape. */
export const DEFAULT_PRETRAINED: PretrainedOptions = {
  tokenizer: "gpt2",
  source: "gpt2",
  d_vocab: GPT2_VOCAB,
  n_ctx: 1024,
};

/**
 * An imported model's vocabulary and n_ctx, checked (one-line `RangeError`s naming the field).
 *
 * @example
 * ```ts
 * import { pretrainedShape } from "./pretrained.ts";
 * const { vocab } = pretrainedShape({ tokenizer: "none", source: "tiny", d_vocab: 3, n_ctx: 8 });
 * vocab.labels; // ["0", "1", "2"]
 * ```
 */
export function pretrainedShape(options: PretrainedOptions): { vocab: Vocab; n_ctx: number } {
  const { tokenizer, d_vocab, n_ctx } = options;
  checkInteger("--d-vocab", d_vocab, 1, 2 ** 24);
  checkInteger("--n-ctx", n_ctx, 1, MAX_N_CTX);
  if (!(TOKENIZERS as readonly string[]).includes(tokenizer)) {
    throw new RangeError(`--tokenizer ${tokenizer}: must be one of ${TOKENIZERS.join(", ")}`);
  }
  if (tokenizer === "gpt2" && d_vocab !== GPT2_VOCAB) {
    throw new RangeError(`--d-vocab ${d_vocab}: the gpt2 tokenizer has ${GPT2_VOCAB} tokens`);
  }
  // GPT-2's labels are built when first read: its tokenizer and 50,257 strings take about 90 MiB,
  // which opening a run to import, run or sample it does not need.
  const vocab: Vocab = tokenizer === "gpt2"
    ? {
      d_vocab,
      d_vocab_out: d_vocab,
      get labels() {
        return gpt2Labels();
      },
      tokenizer,
    }
    : { d_vocab, d_vocab_out: d_vocab, labels: Array.from({ length: d_vocab }, (_, i) => `${i}`) };
  return { vocab, n_ctx };
}

/**
 * The analysis batch's size: `ANALYSIS_ROWS` sequences of L = min(`ANALYSIS_HALF`, ⌊(n_ctx − 1) /
 * 2⌋) random tokens repeated, drawn from `Rng(ANALYSIS_SEED)`. L = 50 as ARENA's induction
 * exercises; 8 rows keep the float64 logits of a GPT-2 vocabulary (`[8, 101, 50257]`) at 325 MB.
 */
export const ANALYSIS_HALF = 50;
/** Sequences in the analysis batch. */
export const ANALYSIS_ROWS = 8;
/** The seed of the analysis batch: the same rows every time. */
export const ANALYSIS_SEED = 0;

/**
 * An imported model's analysis batch, not training data: TransformerLens'
 * `generate_repeated_tokens` — BOS, L random tokens from `[0, d_vocab − 1)`, the same L again
 * (n_ctx of the batch 1 + 2L, no padding) — `ANALYSIS_ROWS` of them, with the next token as target
 * at positions `0..2L−1` (the induction task's `repeatedRow`). BOS is the last id, GPT-2's
 * `<|endoftext|>` (50256), which TransformerLens prepends. The rows count as the train split, a
 * run holding nothing out.
 *
 * @example
 * ```ts
 * import { pretrainedAnalysisTask } from "./pretrained.ts";
 * const t = pretrainedAnalysisTask({ tokenizer: "none", source: "tiny", d_vocab: 10, n_ctx: 9 });
 * [t.n_ctx, t.tokens.length, t.tokens[0]]; // [9, 72, 9]: L = 4, 8 rows, BOS 9
 * ```
 */
export function pretrainedAnalysisTask(options: PretrainedOptions): TaskData {
  const { vocab, n_ctx } = pretrainedShape(options);
  const half = Math.min(ANALYSIS_HALF, Math.floor((n_ctx - 1) / 2));
  if (half < 1 || vocab.d_vocab < 2) {
    throw new RangeError(
      `${options.source}: n_ctx ${n_ctx} and d_vocab ${vocab.d_vocab} hold no repeated tokens`,
    );
  }
  const T = 1 + 2 * half;
  const bos = vocab.d_vocab - 1;
  const rng = new Rng(ANALYSIS_SEED);
  const tokens = new Int32Array(ANALYSIS_ROWS * T); // [N, T]
  const targets = new Int32Array(ANALYSIS_ROWS * T); // [N, T]
  for (let n = 0; n < ANALYSIS_ROWS; n++) {
    const row = repeatedRow(Int32Array.from({ length: half }, () => rng.int(bos)), bos, T);
    tokens.set(row.tokens, n * T);
    targets.set(row.targets, n * T);
  }
  const all = {
    name: "all",
    train: Int32Array.from({ length: ANALYSIS_ROWS }, (_, i) => i),
    test: new Int32Array(0),
    weight: 1,
  };
  return {
    task: "pretrained",
    vocab,
    n_ctx: T,
    tokens,
    targets,
    groups: [all],
    runName: options.source,
    split: () => splitOf(all),
  };
}
