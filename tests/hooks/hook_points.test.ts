// hookPoints against the models themselves: the CPU model's cache (held to PyTorch by
// tests/model) has exactly these names, in this order, with these shapes (hook_result aside, which
// it computes only when asked); the GPU model's buffers are those marked `gpu` but for the three the
// GPU runner forms itself, and every hook marked `gpuEdit` is a buffer the forward pass reads.
import * as assert from "node:assert/strict";
import { hookPoint, hookPoints } from "../../engine/hooks/mod.ts";
import { gpuEditRefusal } from "../../engine/hooks/hook_points.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { buildGpuModel } from "../../engine/model/gpu_model.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { Rng } from "../../engine/tensor/mod.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { randomTokens, randomWeights, TINY } from "./hooks_helpers.ts";

const CONFIGS: ModelConfig[] = [
  TINY,
  { ...TINY, n_layers: 2, normalization_type: "LN" },
  { ...TINY, n_layers: 2, attn_only: true, normalization_type: "LN" },
  { ...TINY, n_layers: 2, normalization_type: "LNPre" }, // an imported GPT-2's, processed
];

Deno.test("hookPoints: the CPU model's hooks, in forward order, with their shapes", () => {
  for (const cfg of CONFIGS) {
    const rng = new Rng(1);
    const B = 2;
    for (const T of [cfg.n_ctx, 2]) {
      const tokens = randomTokens({ ...cfg, n_ctx: T }, B, rng);
      const { cache } = cpuForward(cfg, randomWeights(cfg, rng), tokens, B, { cache: true });
      const points = hookPoints(cfg, B, T).filter((p) => !p.name.endsWith("hook_result"));
      assert.deepEqual(points.map((p) => p.name), [...cache!.keys()]);
      for (const p of points) assert.deepEqual(p.shape, cache!.get(p.name)!.shape, p.name);
    }
  }
  const result = hookPoints(TINY, 4, 3).find((p) => p.name === "blocks.0.attn.hook_result");
  assert.deepEqual(result?.shape, [4, 3, TINY.n_heads, TINY.d_model]);
});

Deno.test("hookPoint: an unknown name is one line naming it and the three closest", () => {
  const points = hookPoints({ ...TINY, n_layers: 2 }, 1, 3);
  assert.equal(hookPoint(points, "blocks.1.mlp.hook_post").name, "blocks.1.mlp.hook_post");
  assert.throws(
    () => hookPoint(points, "blocks.1.mlp.hook_pots"),
    (e: Error) =>
      e.message ===
        "unknown hook blocks.1.mlp.hook_pots; closest: blocks.1.mlp.hook_post, " +
          "blocks.0.mlp.hook_post, blocks.1.mlp.hook_pre (hookPoints lists all 30)",
  );
});

Deno.test("hookPoints: what the GPU runner cannot cache or edit, and why it cannot edit", () => {
  const points = hookPoints({ ...TINY, n_layers: 2, normalization_type: "LN" }, 2, 3);
  const readOnly = points.filter((p) => !p.gpuEdit).map((p) => p.name);
  assert.deepEqual(readOnly, [
    "hook_embed",
    "hook_pos_embed",
    ...[0, 1].flatMap((l) => [
      `blocks.${l}.ln1.hook_scale`,
      `blocks.${l}.attn.hook_attn_scores`,
      `blocks.${l}.attn.hook_pattern`,
      `blocks.${l}.attn.hook_result`,
      `blocks.${l}.ln2.hook_scale`,
    ]),
    "ln_final.hook_scale",
  ]);
  assert.deepEqual(points.filter((p) => !p.gpu).map((p) => p.name), [
    "blocks.0.attn.hook_attn_scores",
    "blocks.1.attn.hook_attn_scores",
  ]);
  assert.equal(
    gpuEditRefusal("blocks.1.attn.hook_result"),
    "it forms each head's result only to cache it (hook_attn_out is one product over heads); " +
      "edit blocks.1.attn.hook_z (the same per-head output before W_O) or use cpuRunner",
  );
  assert.equal(
    gpuEditRefusal("hook_pos_embed"),
    "its embedding kernel writes only their sum; edit blocks.0.hook_resid_pre (their sum) or " +
      "use cpuRunner",
  );
});

gpuTest("hookPoints: `gpu` and `gpuEdit` agree with the GPU model's buffers", async (gpu) => {
  // The GPU runner caches these without a buffer: from the weights, or (hook_result) from hook_z.
  const formed = /^(hook_embed|hook_pos_embed|blocks\.\d+\.attn\.hook_result)$/;
  for (const cfg of CONFIGS) {
    const layout = paramLayout(cfg);
    const params = gpu.zeros([layout.size]);
    // Built to keep hook_pattern, as the runner's calls that cache it are; without, it is absent.
    const model = await buildGpuModel(gpu, cfg, layout, { batch: 2, params, pattern: true });
    const points = hookPoints(cfg, 2, cfg.n_ctx);
    const buffers = points.filter((p) => p.gpu && !formed.test(p.name)).map((p) => p.name);
    assert.deepEqual(buffers.sort(), [...model.hooks.keys()].filter((n) => n !== "logits").sort());
    assert.equal(points.filter((p) => p.gpu && formed.test(p.name)).length, 2 + cfg.n_layers);
    for (const p of points.filter((p) => p.gpuEdit)) assert.ok(model.hooks.has(p.name), p.name);
    assert.deepEqual([...model.hookEnds.keys()].sort(), [...model.hooks.keys()].sort());
    const tiled = await buildGpuModel(gpu, cfg, layout, { batch: 2, params });
    const patterns = buffers.filter((n) => n.endsWith(".attn.hook_pattern"));
    assert.equal(patterns.length, cfg.n_layers);
    assert.deepEqual(
      [...tiled.hooks.keys()].filter((n) => n !== "logits").sort(),
      buffers.filter((n) => !patterns.includes(n)).sort(),
    );
    tiled.release();
    model.release();
    params.release();
  }
});
