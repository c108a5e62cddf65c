/**
 * GPT-2's tokenizer (byte-level BPE, 50,257 tokens) through `js-tiktoken`'s lite entry with only
 * GPT-2's ranks loaded: the token text of an imported GPT-2 (`engine/data/codec.ts` dispatches
 * here for a vocabulary whose `tokenizer` is `gpt2`). As TransformerLens' `to_tokens`, encoding
 * prepends the BOS token `<|endoftext|>` (50256) by default, and `<|endoftext|>` written in the
 * text is that token, as Hugging Face's tokenizer reads it.
 *
 * @module
 */

import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";

/** GPT-2's vocabulary size: `vocab_size` of every model in the family. */
export const GPT2_VOCAB = 50257;

/** `<|endoftext|>`: GPT-2's only special token, prepended as BOS (TransformerLens' default). */
export const GPT2_BOS = 50256;

let encoder: Tiktoken | undefined;

/** The encoder, built on first use (parsing the ranks takes a moment). */
function gpt2(): Tiktoken {
  return encoder ??= new Tiktoken(gpt2Ranks);
}

/**
 * The token ids of `text`, after the BOS token unless `prependBos` is false (TransformerLens'
 * `prepend_bos`).
 *
 * @example
 * ```ts
 * import { gpt2Encode } from "./gpt2_tokenizer.ts";
 * gpt2Encode("Hello world"); // [50256, 15496, 995]
 * gpt2Encode("Hello world", { prependBos: false }); // [15496, 995]
 * ```
 */
export function gpt2Encode(text: string, options: { prependBos?: boolean } = {}): number[] {
  const ids = gpt2().encode(text, "all");
  return options.prependBos === false ? ids : [GPT2_BOS, ...ids];
}

/**
 * The text of `ids` (UTF-8 bytes decoded together, so a character split over tokens comes back
 * whole); an id outside the vocabulary is a one-line `RangeError`.
 *
 * @example
 * ```ts
 * import { gpt2Decode } from "./gpt2_tokenizer.ts";
 * gpt2Decode([15496, 995]); // "Hello world"
 * ```
 */
export function gpt2Decode(ids: ArrayLike<number>): string {
  const list = Array.from(ids);
  const bad = list.find((id) => !Number.isInteger(id) || id < 0 || id >= GPT2_VOCAB);
  if (bad !== undefined) {
    throw new RangeError(`token id ${bad} is outside GPT-2's vocabulary of ${GPT2_VOCAB}`);
  }
  return gpt2().decode(list);
}

let labels: string[] | undefined;

/**
 * Every token's text by id (`labels[15496]` is `"Hello"`): a token that holds part of a UTF-8
 * character shows the replacement character.
 *
 * @example
 * ```ts
 * import { gpt2Labels } from "./gpt2_tokenizer.ts";
 * gpt2Labels()[995]; // " world"
 * ```
 */
export function gpt2Labels(): string[] {
  return labels ??= Array.from({ length: GPT2_VOCAB }, (_, id) => gpt2().decode([id]));
}
