// The token-text codec on hand-worked cases: which vocabularies are textual, greedy specials
// before characters, space-joined labels otherwise, and the one-line errors.
import * as assert from "node:assert/strict";
import { decode, encode, isTextual } from "../../engine/data/codec.ts";

const BRACKETS = { labels: ["(", ")", "<bos>", "<end>", "<balanced>"] };
const MODULAR = { labels: ["0", "1", "2", "3", "4", "="] };

Deno.test("textual: single characters and <name> specials only", () => {
  assert.equal(isTextual(BRACKETS), true);
  assert.equal(isTextual({ labels: ["a", "\n", " ", "é", "<sep>"] }), true);
  assert.equal(isTextual(MODULAR), true); // every label here is one character
  assert.equal(isTextual({ labels: ["0", "10", "="] }), false);
  assert.equal(isTextual({ labels: ["x'3", "y"] }), false);
  assert.equal(isTextual({ labels: ["<a b>", "c"] }), false); // a blank inside is no special
  assert.equal(isTextual({ labels: [] }), false);
});

Deno.test("textual: a vocabulary with a tokenizer, whatever its labels", () => {
  // GPT-2's labels are BPE tokens of several characters: text all the same.
  assert.equal(
    isTextual({ labels: ["Hello", " world", "<|endoftext|>"], tokenizer: "gpt2" }),
    true,
  );
  assert.equal(isTextual({ labels: ["Hello", " world", "<|endoftext|>"] }), false);
});

Deno.test("encode through GPT-2's tokenizer: BOS first, none for an answer token", () => {
  const gpt2 = { labels: [], tokenizer: "gpt2" as const };
  // ids from tiktoken's gpt2 encoding (as Hugging Face's GPT2TokenizerFast gives them)
  assert.deepEqual(encode(gpt2, "Hello world, hello world"), [50256, 15496, 995, 11, 23748, 995]);
  assert.deepEqual(encode(gpt2, " Mary", { prependBos: false }), [5335]);
  assert.equal(decode(gpt2, [995]), " world"); // the leading space is the token's
});

Deno.test("encode a textual vocab: specials first, longest match, then characters", () => {
  // "<bos>(()<end>": <bos>=2, (=0, (=0, )=1, <end>=3
  assert.deepEqual(encode(BRACKETS, "<bos>(()<end>"), [2, 0, 0, 1, 3]);
  // "<" alone is a character label here, and "<ab>" is a longer special than "<a>"
  const v = { labels: ["<", "a", "b", ">", "<a>", "<ab>"] };
  assert.deepEqual(encode(v, "<ab><a><b"), [5, 4, 0, 2]);
  assert.deepEqual(encode(v, "a<b>"), [1, 0, 2, 3]);
  // a newline is one character
  assert.deepEqual(encode({ labels: ["h", "\n", "i"] }, "hi\nh"), [0, 2, 1, 0]);
  assert.deepEqual(encode(BRACKETS, ""), []);
});

Deno.test("decode a textual vocab concatenates labels and round-trips", () => {
  assert.equal(decode(BRACKETS, [2, 0, 1, 4]), "<bos>()<balanced>");
  const text = "<bos>)(<end>";
  assert.equal(decode(BRACKETS, encode(BRACKETS, text)), text);
});

Deno.test("a non-textual vocab is space-separated labels", () => {
  const v = { labels: ["0", "12", "="] };
  assert.deepEqual(encode(v, "12 0 ="), [1, 0, 2]);
  assert.deepEqual(encode(v, "  12\t0\n= "), [1, 0, 2]);
  assert.equal(decode(v, [1, 0, 2]), "12 0 =");
});

Deno.test("unknown text and ids are one-line errors naming them", () => {
  assert.throws(() => encode(BRACKETS, "(x)"), /^RangeError: character "x" \(at 1\) is not in/);
  assert.throws(() => encode(BRACKETS, "(\n"), /character "\\n" \(at 1\)/);
  assert.throws(() => encode({ labels: ["0", "12"] }, "12 13"), /token "13" is not in/);
  assert.throws(() => decode(BRACKETS, [0, 5]), /token id 5 is outside the vocabulary of 5/);
});
