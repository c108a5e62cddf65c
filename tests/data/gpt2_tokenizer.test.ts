// GPT-2's tokenizer (js-tiktoken's gpt2 ranks) against the ids GPT-2's own tokenizer gives
// ("Hello world" is [15496, 995]; `<|endoftext|>` is 50256, TransformerLens' BOS), UTF-8 round
// trips, and codec.ts dispatching to it for an imported GPT-2's vocabulary; the pretrained task's
// shape and its refusal to build training data.
import * as assert from "node:assert/strict";
import { decode, encode } from "../../engine/data/codec.ts";
import { GPT2_BOS, gpt2Decode, gpt2Encode } from "../../engine/data/gpt2_tokenizer.ts";
import { buildTask, DEFAULT_TASKS, taskShape } from "../../engine/data/task_config.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { checkRunFits } from "../../engine/train/memory.ts";

Deno.test("gpt2 tokenizer: GPT-2's ids, BOS first as TransformerLens, UTF-8 round trips", () => {
  assert.deepEqual(gpt2Encode("Hello world", { prependBos: false }), [15496, 995]);
  assert.deepEqual(gpt2Encode("Hello world"), [GPT2_BOS, 15496, 995]);
  assert.equal(GPT2_BOS, 50256);
  assert.deepEqual(gpt2Encode("<|endoftext|>", { prependBos: false }), [50256]);
  for (const text of ["héllo wörld", "日本語のテキスト", "emoji 🎉👍🏽 and\ttabs\n", "  spaces  "]) {
    const ids = gpt2Encode(text, { prependBos: false });
    assert.equal(gpt2Decode(ids), text);
    assert.ok(ids.every((id) => id >= 0 && id < 50257));
  }
  assert.throws(() => gpt2Decode([50257]), /token id 50257 is outside GPT-2's vocabulary of 50257/);
});

Deno.test("gpt2 tokenizer: codec.ts reads and writes an imported GPT-2's text through it", () => {
  const { vocab, n_ctx } = taskShape(DEFAULT_TASKS.pretrained);
  assert.equal(n_ctx, 1024);
  assert.equal(vocab.d_vocab, 50257);
  assert.equal(vocab.labels[15496], "Hello");
  assert.equal(vocab.labels[995], " world");
  assert.deepEqual(encode(vocab, "Hello world"), [50256, 15496, 995]);
  assert.equal(decode(vocab, [15496, 995]), "Hello world");
  // Another size has ids for labels, written separated by spaces.
  const ids = taskShape({ ...DEFAULT_TASKS.pretrained, tokenizer: "none", d_vocab: 20 }).vocab;
  assert.deepEqual(encode(ids, "14 0 2"), [14, 0, 2]);
  assert.throws(
    () => taskShape({ ...DEFAULT_TASKS.pretrained, d_vocab: 300 }),
    /--d-vocab 300: the gpt2 tokenizer has 50257 tokens/,
  );
});

Deno.test("pretrained task: no training data, and LNPre does not train", () => {
  assert.throws(
    () => buildTask({ ...DEFAULT_TASKS.pretrained, source: "gpt2" }),
    /^RangeError: task pretrained \(imported from gpt2\) has no training data/,
  );
  const cfg = resolveConfig("smoke", { model: { normalization_type: "LNPre" } }, "test");
  assert.throws(
    () => checkRunFits(cfg, buildTask(cfg.task), { device: "cpu" }),
    /normalization_type LNPre is an imported model's: train with LN or none/,
  );
});
