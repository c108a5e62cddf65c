// validateModelConfig on n_ctx: any context up to GPT-2's 1,024 passes, a longer one is refused in
// one line naming the field, the limit and the value; LayerNorm's eps is positive, 1e-5 where a
// run's config predates the field (hand-written expectations).
import * as assert from "node:assert/strict";
import { DEFAULT_MODEL, MAX_N_CTX, validateModelConfig } from "../../engine/model/config.ts";
import { checkRunConfig } from "../../engine/runs/run_schema.ts";
import { resolveConfig } from "../../engine/train/presets.ts";

Deno.test("config: n_ctx from 1 to 1,024 passes; 1,025 and 0 are refused in one line", () => {
  assert.equal(MAX_N_CTX, 1024);
  for (const n_ctx of [1, 3, 256, 1024]) validateModelConfig({ ...DEFAULT_MODEL, n_ctx });
  assert.throws(() => validateModelConfig({ ...DEFAULT_MODEL, n_ctx: 1025 }), {
    name: "RangeError",
    message: "n_ctx must be at most 1024 (GPT-2's context), got 1025",
  });
  assert.throws(() => validateModelConfig({ ...DEFAULT_MODEL, n_ctx: 0 }), {
    name: "RangeError",
    message: "n_ctx must be a positive integer, got 0",
  });
});

Deno.test("config: eps is positive and finite; a run's config without it reads as 1e-5", () => {
  assert.equal(DEFAULT_MODEL.eps, 1e-5);
  for (const eps of [1e-12, 1e-5, 0.1]) validateModelConfig({ ...DEFAULT_MODEL, eps });
  for (const eps of [0, -1e-5, Infinity, NaN]) {
    assert.throws(() => validateModelConfig({ ...DEFAULT_MODEL, eps }), {
      name: "RangeError",
      message: `eps must be a positive number, got ${eps}`,
    });
  }
  const config = resolveConfig("smoke", {}, "test");
  const { eps: _, ...before } = config.model; // as runs written before the field
  const read = checkRunConfig(JSON.parse(JSON.stringify({ ...config, model: before })), "c.json");
  assert.equal(read.model.eps, 1e-5);
});
