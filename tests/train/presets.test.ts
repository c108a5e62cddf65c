// How flags override a preset: d_head follows d_model / n_heads of the preset the run uses.
import * as assert from "node:assert/strict";
import { resolveConfig } from "../../engine/train/presets.ts";

Deno.test("resolveConfig: d_head follows the chosen preset's d_model / n_heads", () => {
  const d = (preset: string, model: Record<string, number>) =>
    resolveConfig(preset, { model }, "test").model.d_head;
  assert.equal(d("smoke", { n_heads: 2 }), 32); // smoke's d_model 64, not grokking's 128
  assert.equal(d("grokking", { n_heads: 2 }), 64);
  assert.equal(d("grokking", { d_model: 256 }), 64); // 4 heads
  assert.equal(d("smoke", { n_heads: 2, d_head: 7 }), 7); // given: kept
  assert.equal(d("smoke", {}), 16); // the preset's own
  assert.throws(
    () => d("smoke", { d_model: 66 }),
    /^RangeError: d_model 66 is not divisible by n_heads 4; give d_head too$/,
  );
});

Deno.test("the induction preset: a 2-layer attention-only model with LN, sized by its task", () => {
  const cfg = resolveConfig("induction", {}, "test");
  assert.equal(cfg.task.task, "induction");
  const { n_layers, attn_only, normalization_type, initializer_range } = cfg.model;
  assert.deepEqual([n_layers, attn_only, normalization_type], [2, true, "LN"]);
  assert.equal(initializer_range, 0.02);
  const { d_vocab, d_vocab_out, n_ctx } = cfg.model;
  assert.deepEqual([d_vocab, d_vocab_out, n_ctx], [22, 20, 41]); // 20 tokens, <bos>, <pad>; 1 + 2 · 20
  // A task flag over the preset: the model's sizes follow it.
  const small = resolveConfig("induction", { task: { n_tokens: 5, seq_len: 4 } }, "test").model;
  assert.deepEqual([small.d_vocab, small.d_vocab_out, small.n_ctx], [7, 5, 9]);
});
