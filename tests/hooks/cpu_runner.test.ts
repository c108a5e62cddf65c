// The CPU runner's hooks against computations made another way: ablating a head's z against the
// model with that head's W_O zeroed; each kind of edit against its hand-worked effect on the
// logits of a model without LayerNorm (where logits are linear in the last residual); patching
// every hook of an input with its own cache (nothing changes, bit for bit); and edits of q,
// pattern, result and LayerNorm's scale reaching what reads them.
import * as assert from "node:assert/strict";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { cpuRunner, hookPoints, type Intervention } from "../../engine/hooks/mod.ts";
import {
  add,
  einsum,
  mean,
  mul,
  permutation,
  reduce,
  Rng,
  slice,
  sub,
  Tensor,
  zeros,
} from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { assertSame, randomTokens, randomWeights, TINY } from "./hooks_helpers.ts";

const LN2 = { ...TINY, n_layers: 2, normalization_type: "LN" as const };
const B = 6;

/** The logits at the last position of the plain float64 model. */
function lastLogits(
  cfg: typeof TINY,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  batch: number,
) {
  return slice(cpuForward(cfg, weights, tokens, batch).logits, [null, -1]);
}

Deno.test("cpu runner: zeroing hook_z of one head is the model with that head's W_O zeroed", async () => {
  for (const cfg of [TINY, LN2]) {
    const rng = new Rng(1);
    const weights = randomWeights(cfg, rng);
    const tokens = randomTokens(cfg, B, rng);
    const runner = cpuRunner(cfg, weights);
    for (const [l, h] of [[0, 1], [cfg.n_layers - 1, 2]] as const) {
      const name = `blocks.${l}.attn.hook_z`;
      const { logits } = await runner.runWithHooks(tokens, B, [{ kind: "zero", name, head: h }]);
      const W_O = weights.get(`blocks.${l}.attn.W_O`)!; // [H, E, D]
      const cut = Float64Array.from(W_O.data);
      cut.fill(0, h * cfg.d_head * cfg.d_model, (h + 1) * cfg.d_head * cfg.d_model);
      const ablated = new Map(weights).set(`blocks.${l}.attn.W_O`, new Tensor(cut, W_O.shape));
      const want = lastLogits(cfg, ablated, tokens, B);
      assertClose(logits, want, 1e-12, `layers ${cfg.n_layers}: zero z of head ${h} in block ${l}`);
      // and it changes something: the head mattered
      assert.ok(Math.abs(logits.data[0]! - lastLogits(cfg, weights, tokens, B).data[0]!) > 1e-6);
    }
  }
});

Deno.test("cpu runner: patching every hook with its own cache changes nothing, bit for bit", async () => {
  for (const cfg of [TINY, LN2, { ...TINY, attn_only: true, n_layers: 2 }]) {
    const rng = new Rng(2);
    const weights = randomWeights(cfg, rng);
    const tokens = randomTokens(cfg, B, rng);
    const runner = cpuRunner(cfg, weights);
    const names = hookPoints(cfg, B, cfg.n_ctx).map((p) => p.name);
    const clean = await runner.runWithCache(tokens, B, { names });
    assert.deepEqual([...clean.cache.keys()], names, "the cache holds what was asked, in order");
    const patches: Intervention[] = names.map((name) => ({
      kind: "patch",
      name,
      source: clean.cache.get(name)!,
    }));
    const patched = await runner.runWithHooks(tokens, B, patches, { names });
    assertSame(patched.logits, clean.logits, "logits");
    for (const n of names) assertSame(patched.cache.get(n)!, clean.cache.get(n)!, n);
    // with hook_result asked, attn_out is Σ_h result + b_O: the same sum in another order
    assertClose(clean.logits, lastLogits(cfg, weights, tokens, B), 1e-12, "plain model's logits");
  }
});

Deno.test("cpu runner: the cache holds only the names asked", async () => {
  const rng = new Rng(3);
  const runner = cpuRunner(TINY, randomWeights(TINY, rng));
  const { cache } = await runner.runWithCache(randomTokens(TINY, 2, rng), 2, {
    names: ["blocks.0.mlp.hook_post"],
  });
  assert.deepEqual([...cache.keys()], ["blocks.0.mlp.hook_post"]);
  assert.deepEqual(cache.get("blocks.0.mlp.hook_post")!.shape, [2, 3, TINY.d_mlp]);
  assert.equal((await runner.runWithCache(randomTokens(TINY, 2, rng), 2)).cache.size, 0);
});

Deno.test("cpu runner: patching resid_pre 0 from another input gives that input's logits", async () => {
  for (const cfg of [TINY, LN2]) {
    const rng = new Rng(4);
    const runner = cpuRunner(cfg, randomWeights(cfg, rng));
    const [a, b] = [randomTokens(cfg, 4, rng), randomTokens(cfg, 2, rng)];
    const name = "blocks.0.hook_resid_pre";
    const other = await runner.runWithCache(b, 2, { names: [name] });
    // 4 rows take rows 0, 1, 0, 1 of the 2-row source
    const { logits } = await runner.runWithHooks(a, 4, [
      { kind: "patch", name, source: other.cache.get(name)! },
    ]);
    const want = new Tensor(
      Float64Array.from([...other.logits.data, ...other.logits.data]),
      logits.shape,
    );
    assertClose(logits, want, 0, `layers ${cfg.n_layers}: logits of the patched-in input`);
  }
});

/** Without LayerNorm, logits = resid_post·W_U + b_U: edits of the last residual are checkable. */
async function lastResidCase(seed: number) {
  const rng = new Rng(seed);
  const weights = randomWeights(TINY, rng);
  const tokens = randomTokens(TINY, B, rng);
  const runner = cpuRunner(TINY, weights);
  const name = "blocks.0.hook_resid_post";
  const base = await runner.runWithCache(tokens, B, { names: [name] });
  return { weights, tokens, runner, name, base, resid: base.cache.get(name)! };
}

Deno.test("cpu runner: mean ablation of the last residual gives the batch's mean logits", async () => {
  const { tokens, runner, name, base, resid } = await lastResidCase(5);
  const { logits, cache } = await runner.runWithHooks(tokens, B, [{ kind: "mean", name }], {
    names: [name],
  });
  const meanLogits = mean(base.logits, 0, { keepdims: true }); // [1, U]
  for (let r = 0; r < B; r++) {
    assertClose(slice(logits, `${r}:${r + 1}`), meanLogits, 1e-12, `row ${r}`);
  }
  const meanResid = mean(resid, 0, { keepdims: true });
  assertClose(slice(cache.get(name)!, "3:4"), meanResid, 1e-12, "the cache shows the edit");
});

Deno.test("cpu runner: resampling permutes the edited rows by the seeded permutation", async () => {
  const { tokens, runner, name, base } = await lastResidCase(6);
  const { logits } = await runner.runWithHooks(tokens, B, [
    { kind: "resample", name, seed: 9, rows: [1, 5] },
  ]);
  const perm = permutation(4, { seed: 9 }).data; // rows 1..5 among themselves
  assert.notDeepEqual([...perm], [0, 1, 2, 3], "the permutation moves rows");
  for (let r = 0; r < B; r++) {
    const from = r >= 1 && r < 5 ? 1 + perm[r - 1]! : r; // rows outside [1, 5) keep their own
    assertClose(
      slice(logits, `${r}:${r + 1}`),
      slice(base.logits, `${from}:${from + 1}`),
      1e-12,
      `row ${r} takes row ${from}`,
    );
  }
});

Deno.test("cpu runner: adding scale·v at the last position moves logits by scale·v·W_U", async () => {
  const { weights, tokens, runner, name, base } = await lastResidCase(7);
  const v = new Tensor(Float64Array.from({ length: TINY.d_model }, (_, i) => i - 5), [
    TINY.d_model,
  ]);
  const { logits } = await runner.runWithHooks(tokens, B, [
    { kind: "add", name, vector: v, scale: 0.25, pos: TINY.n_ctx - 1 },
    { kind: "add", name, vector: v, scale: 1, pos: 0 }, // not the last: no effect on the logits
  ]);
  const shift = mul(einsum("d, d u -> u", v, weights.get("unembed.W_U")!), 0.25);
  assertClose(sub(logits, base.logits), add(zeros(logits.shape), shift), 1e-12, "logit shift");
});

Deno.test("cpu runner: rows, pos and head narrow an edit", async () => {
  const rng = new Rng(8);
  const runner = cpuRunner(TINY, randomWeights(TINY, rng));
  const tokens = randomTokens(TINY, B, rng);
  const name = "blocks.0.attn.hook_z";
  const base = await runner.runWithCache(tokens, B, { names: [name] });
  const { cache } = await runner.runWithHooks(
    tokens,
    B,
    [{ kind: "zero", name, rows: [2, 4], pos: 1, head: 2 }],
    { names: [name] },
  );
  const [got, was] = [cache.get(name)!, base.cache.get(name)!]; // [B, T, H, E]
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < 3; t++) {
      for (let h = 0; h < 3; h++) {
        const edited = r >= 2 && r < 4 && t === 1 && h === 2;
        const want = edited ? zeros([TINY.d_head]) : slice(was, [r, t, h]);
        assertClose(slice(got, [r, t, h]), want, 0, `z[${r}, ${t}, ${h}]`);
      }
    }
  }
});

Deno.test("cpu runner: edits reach what reads them (q → pattern, pattern → z, result → attn_out)", async () => {
  const rng = new Rng(9);
  const weights = randomWeights(TINY, rng);
  const runner = cpuRunner(TINY, weights);
  const tokens = randomTokens(TINY, 2, rng);
  const a = "blocks.0.attn";
  // q = 0: every score 0, so each query spreads evenly over the keys up to it
  const zq = await runner.runWithHooks(tokens, 2, [{ kind: "zero", name: `${a}.hook_q` }], {
    names: [`${a}.hook_pattern`],
  });
  const even = Float64Array.from({ length: 2 * 3 * 9 }, (_, n) => {
    const [i, j] = [Math.floor(n / 3) % 3, n % 3];
    return j <= i ? 1 / (i + 1) : 0;
  });
  assertClose(zq.cache.get(`${a}.hook_pattern`)!, new Tensor(even, [2, 3, 3, 3]), 1e-15, "pattern");
  // pattern = 0: z = 0, so attn_out is b_O alone
  const zp = await runner.runWithHooks(tokens, 2, [{ kind: "zero", name: `${a}.hook_pattern` }], {
    names: [`${a}.hook_z`, "blocks.0.hook_attn_out"],
  });
  assertClose(zp.cache.get(`${a}.hook_z`)!, zeros([2, 3, 3, 5]), 0, "z");
  const bO = weights.get(`${a}.b_O`)!;
  assertClose(zp.cache.get("blocks.0.hook_attn_out")!, add(zeros([2, 3, 12]), bO), 0, "attn_out");
  // hook_result: its heads sum to attn_out - b_O; zeroing head 1 equals zeroing its z
  const names = [`${a}.hook_result`, "blocks.0.hook_attn_out"];
  const res = await runner.runWithCache(tokens, 2, { names });
  const summed = reduce(res.cache.get(`${a}.hook_result`)!, "b p h d -> b p d", "sum");
  assertClose(add(summed, bO), res.cache.get("blocks.0.hook_attn_out")!, 1e-12, "Σ_h result + b_O");
  const viaResult = await runner.runWithHooks(tokens, 2, [
    { kind: "zero", name: `${a}.hook_result`, head: 1 },
  ]);
  const viaZ = await runner.runWithHooks(tokens, 2, [{
    kind: "zero",
    name: `${a}.hook_z`,
    head: 1,
  }]);
  assertClose(viaResult.logits, viaZ.logits, 1e-12, "zero result[1] = zero z[1]");
});

Deno.test("cpu runner: an edited LayerNorm scale divides the centred residual", async () => {
  const rng = new Rng(10);
  const weights = randomWeights(LN2, rng);
  const runner = cpuRunner(LN2, weights);
  const tokens = randomTokens(LN2, 3, rng);
  const ln = "blocks.1.ln2";
  const names = [`${ln}.hook_scale`, `${ln}.hook_normalized`];
  const base = await runner.runWithCache(tokens, 3, { names });
  const doubled = mul(base.cache.get(`${ln}.hook_scale`)!, 2);
  const { cache } = await runner.runWithHooks(tokens, 3, [
    { kind: "patch", name: `${ln}.hook_scale`, source: doubled },
  ], { names });
  // y = x̂·w + b with x̂ halved: y' = (y - b) / 2 + b
  const b = weights.get(`${ln}.b`)!;
  const want = add(mul(sub(base.cache.get(`${ln}.hook_normalized`)!, b), 0.5), b);
  assertClose(cache.get(`${ln}.hook_normalized`)!, want, 1e-12, "normalized with scale × 2");
});

Deno.test("cpu runner: unknown names and bad places are one-line errors naming them", async () => {
  const rng = new Rng(11);
  const runner = cpuRunner(TINY, randomWeights(TINY, rng));
  const tokens = randomTokens(TINY, 2, rng);
  await assert.rejects(
    runner.runWithCache(tokens, 2, { names: ["blocks.0.hook_z"] }),
    /^Error: unknown hook blocks\.0\.hook_z; closest: blocks\.0\.attn\.hook_z, .* \(hookPoints lists all 16\)$/,
  );
  await assert.rejects(
    runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "blocks.0.attn.hook_patern" }]),
    /unknown hook blocks\.0\.attn\.hook_patern; closest: blocks\.0\.attn\.hook_pattern/,
  );
  await assert.rejects(
    runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "blocks.0.hook_mlp_out", head: 0 }]),
    /intervention on blocks\.0\.hook_mlp_out: head given, but the hook has no head axis/,
  );
  await assert.rejects(
    runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "hook_embed", rows: [1, 3] }]),
    /intervention on hook_embed: rows \[1,3\] go past the batch of 2/,
  );
  const attnOnly = cpuRunner(
    { ...TINY, attn_only: true },
    randomWeights({ ...TINY, attn_only: true }, rng),
  );
  await assert.rejects(
    attnOnly.runWithCache(tokens, 2, { names: ["blocks.0.hook_resid_mid"] }),
    /unknown hook blocks\.0\.hook_resid_mid/,
  );
});
