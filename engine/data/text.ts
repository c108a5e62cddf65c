/**
 * A character-level causal language model on a UTF-8 text file (the seed "code your own tiny
 * GPT-2 and train it"; nanoGPT's shakespeare_char).
 *
 * Encoding. The vocabulary is the file's distinct characters (Unicode code points) in code-point
 * order, token id = rank: for "abba\n" it is "\n", "a", "b" with ids 0, 1, 2, and
 * `d_vocab = d_vocab_out` = their number. The run's config keeps the vocabulary as one string
 * (`vocab`), so a run decodes its tokens (samples, analyses) without the file; a config that
 * names a vocabulary uses it, and refuses a file with a character outside it.
 *
 * Examples. Windows of `n_ctx + 1` characters: the tokens are the first `n_ctx`, the targets the
 * next character at every position (the logits at position t predict token t + 1, all scored).
 * Windows start every `stride` characters (`stride = n_ctx`: no character is a target twice).
 *
 * Split, by position in the file: the first `⌊frac_train · length⌋` characters give the training
 * windows (starting at 0, stride, 2·stride, … and ending inside them), the rest the test windows
 * (starting where the training text ends), so no test character was a training token or target.
 * Nothing is random: no data seed.
 *
 * With "abcabcabca" (10 characters), n_ctx 2, stride 2, frac_train 0.6: the first 6 characters
 * give windows "abc" and "cab" (tokens `a b`, targets `b c`; tokens `c a`, targets `a b`), the last
 * 4 ("abca") give "abc" only.
 *
 * @module
 */

import { basename, extname } from "node:path";
import {
  checkFracTrain,
  checkInteger,
  MAX_EXAMPLES,
  splitOf,
  type TaskData,
  type Vocab,
} from "./task.ts";

/** Options of `textTask`. */
export interface TextOptions {
  /** The UTF-8 text file, as given (relative to the working directory, or absolute). */
  data: string;
  /** The vocabulary, one character per token id; "" to build it from the file. */
  vocab: string;
  /** Tokens per window, the model's n_ctx: an integer in `[1, 1024]`. */
  n_ctx: number;
  /** Characters between window starts: an integer in `[1, 1,048,576]`. */
  stride: number;
  /** Fraction of the file (from its start) whose windows train, strictly between 0 and 1. */
  frac_train: number;
}

/** The most tokens in all windows together: 2²⁴, so tokens and targets hold 128 MB. */
export const MAX_TEXT_TOKENS = 1 << 24;

/** The committed corpus (fixtures/make_corpus.py), 128-character windows without overlap, 90% to train. */
export const DEFAULT_TEXT: Readonly<TextOptions> = Object.freeze({
  data: "fixtures/corpus.txt",
  vocab: "",
  n_ctx: 128,
  stride: 128,
  frac_train: 0.9,
});

/**
 * The vocabulary of a text: its distinct characters in code-point order, as one string.
 *
 * @example
 * ```ts
 * import { textVocab } from "./text.ts";
 * textVocab("abba\n"); // "\nab"
 * ```
 */
export function textVocab(text: string): string {
  return Array.from(new Set(text)).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join("");
}

/**
 * A text task's vocabulary and n_ctx from its config alone (the file is not read), after checking
 * the settings: what a saved run needs to decode its tokens.
 *
 * @example
 * ```ts
 * import { textShape } from "./text.ts";
 * const { vocab, n_ctx } = textShape({ data: "x.txt", vocab: "\nab", n_ctx: 4, stride: 4, frac_train: 0.9 });
 * [vocab.d_vocab, vocab.labels[0], n_ctx]; // [3, "\n", 4]
 * ```
 */
export function textShape(options: TextOptions): { vocab: Vocab; n_ctx: number } {
  checkTextOptions(options);
  const labels = Array.from(options.vocab);
  if (labels.length === 0) {
    throw new RangeError("vocab: empty; a run's text task names its characters");
  }
  return {
    vocab: { d_vocab: labels.length, d_vocab_out: labels.length, labels },
    n_ctx: options.n_ctx,
  };
}

/**
 * The text task: the file's windows as examples, split by position (one group "all", weight 1).
 * Throws a one-line `RangeError` naming the flag for a bad option or an unreadable file.
 *
 * @example
 * ```ts ignore
 * import { textTask } from "./text.ts";
 * const t = textTask({ data: "fixtures/corpus.txt", vocab: "", n_ctx: 128, stride: 128, frac_train: 0.9 });
 * t.vocab.labels.join(""); // "\n .ABCDEMSTabcdefghiklmnopqrstuvwy"
 * ```
 */
export function textTask(options: TextOptions): TaskData {
  checkTextOptions(options);
  const { data, n_ctx, stride, frac_train } = options;
  const chars = Array.from(readText(data));
  const vocab = options.vocab === "" ? textVocab(chars.join("")) : options.vocab;
  const labels = Array.from(vocab);
  const id = new Map(labels.map((c, i) => [c, i]));
  const ids = Int32Array.from(chars, (c) => {
    const i = id.get(c);
    if (i === undefined) {
      throw new RangeError(
        `--data ${data}: character ${JSON.stringify(c)} is not in the run's vocab`,
      );
    }
    return i;
  });
  const cut = Math.floor(frac_train * ids.length);
  /** Window starts from `from` whose n_ctx + 1 characters end by `to`. */
  const starts = (from: number, to: number) =>
    Array.from(
      { length: Math.max(0, Math.floor((to - from - n_ctx - 1) / stride) + 1) },
      (_, k) => from + k * stride,
    );
  const trainStarts = starts(0, cut);
  const testStarts = starts(cut, ids.length);
  for (const [side, s] of [["training", trainStarts], ["test", testStarts]] as const) {
    if (s.length === 0) {
      throw new RangeError(
        `--data ${data}: its ${side} part is shorter than a window of --n-ctx ${n_ctx} + 1 characters (--frac-train ${frac_train} of ${ids.length})`,
      );
    }
  }
  const all = [...trainStarts, ...testStarts];
  if (all.length > MAX_EXAMPLES || all.length * n_ctx > MAX_TEXT_TOKENS) {
    throw new RangeError(
      `--stride ${stride}: gives ${all.length} windows of ${n_ctx} tokens, more than ${MAX_TEXT_TOKENS} tokens; raise it`,
    );
  }
  const tokens = new Int32Array(all.length * n_ctx); // [N, n_ctx]
  const targets = new Int32Array(all.length * n_ctx); // [N, n_ctx]: the next character
  all.forEach((s, n) => {
    tokens.set(ids.subarray(s, s + n_ctx), n * n_ctx);
    targets.set(ids.subarray(s + 1, s + n_ctx + 1), n * n_ctx);
  });
  const group = {
    name: "all",
    train: Int32Array.from(trainStarts.keys()),
    test: Int32Array.from(testStarts, (_, k) => trainStarts.length + k),
    weight: 1,
  };
  const name = basename(data, extname(data)).replace(/[^A-Za-z0-9_-]/g, "_");
  return {
    task: "text",
    vocab: { d_vocab: labels.length, d_vocab_out: labels.length, labels },
    n_ctx,
    tokens,
    targets,
    groups: [group],
    runName: `text_${name}`,
    split: () => splitOf(group),
  };
}

/** The settings that need no file, each naming its flag. */
function checkTextOptions(options: TextOptions): void {
  const { vocab, n_ctx, stride, frac_train } = options;
  if (options.data === "") throw new RangeError("--data: no file given");
  checkInteger("--n-ctx", n_ctx, 1, 1024);
  checkInteger("--stride", stride, 1, MAX_EXAMPLES);
  checkFracTrain(frac_train);
  if (new Set(vocab).size !== Array.from(vocab).length) {
    throw new RangeError(`vocab: a character appears twice in ${JSON.stringify(vocab)}`);
  }
}

/** The file's text, or a one-line error naming the flag (missing, unreadable, not UTF-8). */
function readText(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new RangeError(`--data ${path}: cannot read it (${(e as Error).message.split("\n")[0]})`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new RangeError(`--data ${path}: not UTF-8 text`);
  }
}
