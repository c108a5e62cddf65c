/**
 * The task of an imported model (`mechlab import`): no examples, only what its token text needs.
 * A GPT-2 vocabulary (`tokenizer: "gpt2"`, 50,257 tokens) reads and writes text through GPT-2's
 * tokenizer, its labels each token's text; any other size (a test model's) has the ids as labels,
 * written separated by spaces (`3 5 7`).
 *
 * @module
 */

import { MAX_N_CTX } from "../model/config.ts";
import { GPT2_VOCAB, gpt2Labels } from "./gpt2_tokenizer.ts";
import { checkInteger, type Vocab } from "./task.ts";

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
  const vocab: Vocab = tokenizer === "gpt2"
    ? { d_vocab, d_vocab_out: d_vocab, labels: gpt2Labels(), tokenizer }
    : { d_vocab, d_vocab_out: d_vocab, labels: Array.from({ length: d_vocab }, (_, i) => `${i}`) };
  return { vocab, n_ctx };
}
