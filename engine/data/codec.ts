/**
 * Token text: how a task's token ids are written as text and read back, shared by the tasks and
 * by generation (`mechlab sample`, the page's prompt box).
 *
 * A vocabulary is *textual* when it has a `tokenizer` (an imported GPT-2's `gpt2`: its labels are
 * BPE tokens of several characters, `" world"`), or when every label is a single character or a
 * special written `<name>` (`<bos>`, `<end>`, `<sep>`): its text is the labels concatenated
 * (`(()<end>`), and encoding matches, at each place, the longest special that starts there, else
 * one character. Any other
 * vocabulary (modular arithmetic's "0".."112" and "=", the out-of-context tables) is written as
 * labels joined by spaces (`3 5 =`), and encoding splits on whitespace. A vocabulary with a
 * `tokenizer` (an imported GPT-2's `gpt2`) is read and written by that tokenizer instead, BOS
 * first as TransformerLens' `to_tokens`.
 *
 * @module
 */

import { gpt2Decode, gpt2Encode } from "./gpt2_tokenizer.ts";
import type { Vocab } from "./task.ts";

/** A special token's label: `<` name `>`, with no angle brackets or blanks inside. */
const SPECIAL = /^<[^<>\s]+>$/;

/**
 * Whether the vocabulary's tokens are text: it has a tokenizer, or every label is one character
 * (one code point) or a `<name>` special. The page's prompt views follow this.
 *
 * @example
 * ```ts
 * import { isTextual } from "./codec.ts";
 * isTextual({ labels: ["(", ")", "<end>"] }); // true
 * isTextual({ labels: ["0", "1", "12", "="] }); // false: "12" is two characters
 * isTextual({ labels: ["Hello", " world"], tokenizer: "gpt2" }); // true: GPT-2's BPE reads text
 * ```
 */
export function isTextual(vocab: Pick<Vocab, "labels" | "tokenizer">): boolean {
  if (vocab.tokenizer !== undefined) return true;
  return vocab.labels.length > 0 &&
    vocab.labels.every((l) => [...l].length === 1 || SPECIAL.test(l));
}

/**
 * The ids of `text`: through the vocabulary's tokenizer when it has one (BOS first unless
 * `prependBos` is false: an answer token is one token, with no BOS); for a textual vocabulary,
 * greedily the longest `<name>` special at each place, else one character; otherwise
 * whitespace-separated labels. Text that no label writes is a one-line `RangeError` naming it.
 *
 * @example
 * ```ts
 * import { encode } from "./codec.ts";
 * encode({ labels: ["(", ")", "<end>"] }, "()<end>"); // [0, 1, 2]
 * encode({ labels: ["0", "1", "2", "="] }, "2 1 ="); // [2, 1, 3]
 * encode({ labels: [], tokenizer: "gpt2" }, "Hello world"); // [50256, 15496, 995]: BOS first
 * encode({ labels: [], tokenizer: "gpt2" }, " Mary", { prependBos: false }); // [5335]: an answer
 * ```
 */
export function encode(
  vocab: Pick<Vocab, "labels" | "tokenizer">,
  text: string,
  options: { prependBos?: boolean } = {},
): number[] {
  if (vocab.tokenizer === "gpt2") return gpt2Encode(text, options);
  const ids = new Map(vocab.labels.map((l, i) => [l, i]));
  if (!isTextual(vocab)) {
    return text.split(/\s+/).filter((w) => w !== "").map((word) => {
      const id = ids.get(word);
      if (id === undefined) {
        throw new RangeError(`token ${JSON.stringify(word)} is not in the vocabulary`);
      }
      return id;
    });
  }
  // Longest first, so `<end>` wins over a shorter special that is its prefix.
  const specials = vocab.labels.filter((l) => SPECIAL.test(l)).sort((a, b) => b.length - a.length);
  const out: number[] = [];
  let at = 0;
  while (at < text.length) {
    const special = specials.find((s) => text.startsWith(s, at));
    const piece = special ?? String.fromCodePoint(text.codePointAt(at)!);
    const id = ids.get(piece);
    if (id === undefined) {
      throw new RangeError(
        `character ${JSON.stringify(piece)} (at ${at}) is not in the vocabulary`,
      );
    }
    out.push(id);
    at += piece.length;
  }
  return out;
}

/**
 * The text of `ids`: the tokenizer's when the vocabulary has one, labels concatenated for a
 * textual vocabulary, joined by spaces otherwise.
 * An id without a label is a one-line `RangeError`.
 *
 * @example
 * ```ts
 * import { decode } from "./codec.ts";
 * decode({ labels: ["(", ")", "<end>"] }, [0, 1, 2]); // "()<end>"
 * decode({ labels: ["0", "1", "2", "="] }, [2, 1, 3]); // "2 1 ="
 * decode({ labels: [], tokenizer: "gpt2" }, [15496, 995]); // "Hello world"
 * ```
 */
export function decode(vocab: Pick<Vocab, "labels" | "tokenizer">, ids: ArrayLike<number>): string {
  if (vocab.tokenizer === "gpt2") return gpt2Decode(ids);
  const labels = Array.from(ids, (id) => {
    const label = vocab.labels[id];
    if (label === undefined) {
      throw new RangeError(`token id ${id} is outside the vocabulary of ${vocab.labels.length}`);
    }
    return label;
  });
  return labels.join(isTextual(vocab) ? "" : " ");
}
