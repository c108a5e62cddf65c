/**
 * Text manipulation over a small alphabet: copy a string, reverse it, sort its letters, or say
 * whether it is in the language of a regular expression (the seed "analyse transformers that
 * implement simple regexes / text manipulation patterns").
 *
 * Encoding. Token ids: the alphabet's letters `0..A-1` (A = its length), then `<end>`, `<no>`,
 * `<yes>` (so `d_vocab_out = A + 3`: everything an answer holds), then `<bos>`, `<sep>`, `<pad>`
 * (`d_vocab = A + 6`). A string s of length 1 to `max_len` is the row `<bos> s <sep> answer`,
 * padded on the right with `<pad>`; the answer is op(s) then `<end>` for `copy`, `reverse` and
 * `sort` (its length is part of what is learnt), and `<yes>` or `<no>` for `regex`. As a language
 * model, the logits at position t predict token t + 1, scored only over the answer: from `<sep>`
 * to the token before the answer's last. `n_ctx = 2 · max_len + 3` (`max_len + 3` for `regex`).
 * With alphabet "abc" and op reverse, "ab" is `<bos> a b <sep> b a <end> <pad>…`, ids
 * `[6, 0, 1, 7, 1, 0, 3, 8, …]`, targets `b a <end>` = 1, 0, 3 at positions 3, 4, 5.
 *
 * Examples. `copy`, `reverse`, `sort`: a length uniform in `[1, max_len]`, then letters uniform.
 * `regex`: the expression is matched whole (JavaScript's `RegExp`, `^(?:regex)$`) against every
 * string up to `max_len` (at most `MAX_ENUMERATED` of them); half the examples are members drawn
 * uniformly, half non-members: half of those near misses (a member with one letter changed,
 * inserted or deleted, that no longer matches) and half random strings. Every string appears once,
 * so a held-out string was never trained on.
 *
 * Split. Each example is a unit of `shuffleSplit` with `Rng(data_seed)` after the draws: the first
 * `⌊frac_train · n_examples⌋` train, the rest test.
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

/** The operations. */
export const STRING_OPS = ["copy", "reverse", "sort", "regex"] as const;

/** One of `STRING_OPS`. */
export type StringOp = typeof STRING_OPS[number];

/** Options of `stringsTask`. */
export interface StringsOptions extends DrawnOptions {
  /** One of `STRING_OPS`; a string so a flag's value passes straight in. */
  op: string;
  /** The letters, distinct, each a letter or digit (2 to 26 of them). */
  alphabet: string;
  /** The longest string, an integer in `[1, MAX_STRING_LEN]`. */
  max_len: number;
  /** The regular expression of op `regex` (JavaScript syntax, matched whole; checked for any op). */
  regex: string;
}

/** The longest string: n_ctx 2 · 510 + 3 = 1,023, within the GPU's 1,024. */
export const MAX_STRING_LEN = 510;

/** The most strings `regex` labels by enumeration: 2²¹ (a second or two of `RegExp.test`). */
export const MAX_ENUMERATED = 1 << 21;

/**
 * Reverse 3,000 strings of up to 8 letters of "abcd"; for `regex`, one `c` among `a`s and `b`s
 * (1,793 of the 87,380 strings up to 8 long match, enough for 1,500 members).
 */
export const DEFAULT_STRINGS: Readonly<StringsOptions> = Object.freeze({
  op: "reverse",
  alphabet: "abcd",
  max_len: 8,
  n_examples: 3000,
  regex: "(a|b)*c(a|b)*",
  frac_train: 0.8,
  data_seed: 0,
});

/** The specials after the letters, in id order. */
const SPECIALS = ["<end>", "<no>", "<yes>", "<bos>", "<sep>", "<pad>"];

/**
 * The answer to `s` under `op` as labels: the string then `<end>`, or `<yes>` / `<no>` for
 * `regex` (tested by `member`).
 *
 * @example
 * ```ts
 * import { stringAnswer } from "./strings.ts";
 * stringAnswer("reverse", "abc"); // ["c", "b", "a", "<end>"]
 * stringAnswer("sort", "cab"); // ["a", "b", "c", "<end>"]
 * stringAnswer("regex", "abc", /^(?:(ab)*c)$/); // ["<yes>"]
 * ```
 */
export function stringAnswer(op: StringOp, s: string, member?: RegExp): string[] {
  const letters = [...s];
  switch (op) {
    case "copy":
      return [...letters, "<end>"];
    case "reverse":
      return [...letters.reverse(), "<end>"];
    case "sort":
      return [...letters.sort(), "<end>"];
    case "regex":
      return [member!.test(s) ? "<yes>" : "<no>"];
  }
}

/**
 * The strings task: `n_examples` distinct strings, each row `<bos> s <sep> answer <pad>…` with
 * the answer scored as a language model's next tokens, and the seeded split (one group "all",
 * weight 1). Throws a one-line `RangeError` naming the flag for a bad option.
 *
 * @example
 * ```ts
 * import { stringsTask } from "./strings.ts";
 * const t = stringsTask({
 *   op: "reverse", alphabet: "abc", max_len: 3, n_examples: 20, regex: "", frac_train: 0.8,
 *   data_seed: 0,
 * });
 * [t.vocab.d_vocab, t.vocab.d_vocab_out, t.n_ctx]; // [9, 6, 9]
 * t.runName; // "strings_reverse_abc_3"
 * ```
 */
export function stringsTask(options: StringsOptions): TaskData {
  const { alphabet, max_len, n_examples, frac_train, data_seed } = options;
  if (!(STRING_OPS as readonly string[]).includes(options.op)) {
    throw new RangeError(`--op ${options.op}: unknown op for strings (${STRING_OPS.join(", ")})`);
  }
  const op = options.op as StringOp;
  if (!/^[a-z0-9]{2,26}$/i.test(alphabet) || new Set(alphabet).size !== alphabet.length) {
    throw new RangeError(`--alphabet ${alphabet}: must be 2 to 26 distinct letters or digits`);
  }
  checkInteger("--max-len", max_len, 1, MAX_STRING_LEN);
  checkInteger("--n-examples", n_examples, 4, MAX_EXAMPLES);
  const nTrain = trainCount(frac_train, n_examples);
  checkDataSeed(data_seed);

  const rng = new Rng(data_seed);
  const letters = [...alphabet];
  const member = compiled(options.regex); // checked whatever the op: a bad flag is refused
  let strings: string[];
  if (op === "regex") {
    strings = regexExamples(member, letters, max_len, n_examples, rng);
  } else {
    const draw = () => randomString(letters, max_len, rng);
    strings = drawDistinct(n_examples, draw, new Set(), `--n-examples ${n_examples}`);
  }

  const labels = [...letters, ...SPECIALS];
  const id = new Map(labels.map((l, i) => [l, i]));
  const [bos, sep, pad] = ["<bos>", "<sep>", "<pad>"].map((l) => id.get(l)!);
  const T = op === "regex" ? max_len + 3 : 2 * max_len + 3;
  const rows = strings.map((s) => {
    const answer = stringAnswer(op, s, member).map((l) => id.get(l)!);
    const tokens = [bos!, ...Array.from(s, (c) => id.get(c)!), sep!, ...answer];
    // Position t predicts t + 1: scored from <sep> (at s.length + 1) to the answer's last.
    const targets = tokens.map((
      _,
      t,
    ) => (t > s.length && t + 1 < tokens.length ? tokens[t + 1]! : IGNORE));
    return { tokens, targets };
  });
  const { tokens, targets } = packRows(rows, T, pad!);
  const { chosen, rest } = shuffleSplit(Int32Array.from(strings.keys()), n_examples, nTrain, rng);
  const all = { name: "all", train: chosen, test: rest, weight: 1 };
  return {
    task: "strings",
    vocab: { d_vocab: labels.length, d_vocab_out: letters.length + 3, labels },
    n_ctx: T,
    tokens,
    targets,
    groups: [all],
    runName: `strings_${op}_${alphabet}_${max_len}`,
    split: () => splitOf(all),
  };
}

/** `regex` matched whole, or a one-line error naming the flag. */
function compiled(regex: string): RegExp {
  try {
    return new RegExp(`^(?:${regex})$`);
  } catch (e) {
    throw new RangeError(`--regex ${regex}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/**
 * Half members of `member` (uniform among all strings up to `max_len`), half non-members: near
 * misses (one edit of a member) and random strings, alternately. Members first.
 */
function regexExamples(
  member: RegExp,
  letters: string[],
  max_len: number,
  n_examples: number,
  rng: Rng,
): string[] {
  let total = 0;
  for (let l = 1; l <= max_len; l++) total += letters.length ** l;
  if (total > MAX_ENUMERATED) {
    throw new RangeError(
      `--max-len ${max_len}: regex labels every string up to it, ${total} here, more than ${MAX_ENUMERATED}`,
    );
  }
  const members: string[] = [];
  const visit = (prefix: string) => {
    if (prefix.length > 0 && member.test(prefix)) members.push(prefix);
    if (prefix.length < max_len) { for (const c of letters) visit(prefix + c); }
  };
  visit("");
  const nMembers = Math.ceil(n_examples / 2);
  if (total - members.length < n_examples - nMembers) {
    throw new RangeError(
      `--n-examples ${n_examples}: half must not match the regex, and only ${
        total - members.length
      } strings up to --max-len ${max_len} do not`,
    );
  }
  if (members.length < nMembers) {
    throw new RangeError(
      `--n-examples ${n_examples}: half must match the regex, and only ${members.length} strings up to --max-len ${max_len} do`,
    );
  }
  const order = permutation(members.length, { rng }).data;
  const chosen = Array.from(order.subarray(0, nMembers), (i) => members[i]!);
  const letter = () => letters[rng.int(letters.length)]!;
  const nearMiss = () => {
    const s = members[rng.int(members.length)]!;
    const at = rng.int(s.length + 1);
    const edit = rng.int(3); // 0 change, 1 insert, 2 delete
    if (edit === 1 && s.length < max_len) return s.slice(0, at) + letter() + s.slice(at);
    if (edit === 2 && s.length > 1 && at < s.length) return s.slice(0, at) + s.slice(at + 1);
    const i = Math.min(at, s.length - 1);
    return s.slice(0, i) + letter() + s.slice(i + 1);
  };
  const random = () => randomString(letters, max_len, rng);
  let turn = 0;
  const others = drawDistinct(
    n_examples - nMembers,
    () => {
      const draw = turn++ % 2 === 0 ? nearMiss : random;
      let s = draw();
      while (member.test(s)) s = draw();
      return s;
    },
    new Set(chosen),
    `--n-examples ${n_examples}`,
  );
  return [...chosen, ...others];
}

/** A length uniform in `[1, max_len]`, then letters uniform. */
function randomString(letters: string[], max_len: number, rng: Rng): string {
  return Array.from({ length: 1 + rng.int(max_len) }, () => letters[rng.int(letters.length)]).join(
    "",
  );
}
