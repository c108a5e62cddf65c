// validateModelConfig on n_ctx: any context up to GPT-2's 1,024 passes, a longer one is refused in
// one line naming the field, the limit and the value (hand-written expectations).
import * as assert from "node:assert/strict";
import { DEFAULT_MODEL, MAX_N_CTX, validateModelConfig } from "../../engine/model/config.ts";

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
