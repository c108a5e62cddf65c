// Generation on the CPU: the cached source's logits at every position equal the float64 reference
// forward of the whole sequence (engine/model/cpu_forward.ts), the uncached source's too, so
// greedy generation gives the same tokens either way; draws are reproducible from the seed; and
// n_ctx and bad options are refused in one line.
import * as assert from "node:assert/strict";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { initParams, paramLayout, unflatten } from "../../engine/model/params.ts";
import {
  CpuCachedModel,
  CpuUncachedModel,
  generate,
  type SampleOptions,
  type TokenModel,
} from "../../engine/sample/mod.ts";
import { assertClose } from "../helpers.ts";
import { sampleConfig } from "./sample_helpers.ts";

const CFG = sampleConfig(12);
const LAYOUT = paramLayout(CFG);
const PARAMS = initParams(CFG, LAYOUT);

async function tokensOf(model: TokenModel, prompt: number[], options: SampleOptions) {
  const out: number[] = [];
  for await (const t of generate(model, prompt, options)) out.push(t.token);
  return out;
}

Deno.test("sample cpu: cached and uncached logits equal the float64 forward at every position", async () => {
  const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
  const U = CFG.d_vocab_out;
  // Positions in the residual stream, and a shortformer's: in each layer's q and k only.
  const shortformer = { ...CFG, positional_embedding_type: "shortformer" as const };
  for (const cfg of [CFG, shortformer]) {
    const ref = cpuForward(cfg, unflatten(LAYOUT, PARAMS), Int32Array.from(tokens), 1).logits; // [1, T, U]
    const cached = new CpuCachedModel(cfg, LAYOUT, PARAMS);
    const uncached = new CpuUncachedModel(cfg, LAYOUT, PARAMS);
    const kind = cfg.positional_embedding_type;
    for (const [t, token] of tokens.entries()) {
      const want = ref.data.subarray(t * U, (t + 1) * U);
      assertClose(await cached.push(token), want, 2e-5, `cached logits at ${t} (${kind})`);
      assertClose(await uncached.push(token), want, 2e-5, `uncached logits at ${t} (${kind})`);
    }
  }
  const cached = new CpuCachedModel(CFG, LAYOUT, PARAMS);
  for (const token of tokens) cached.push(token);
  assert.equal(cached.length, 12);
  assert.throws(() => cached.push(0), /^RangeError: the sequence is full: n_ctx 12$/);
  assert.throws(
    () => new CpuCachedModel(CFG, LAYOUT, PARAMS).push(11),
    /token 11 is outside \[0, d_vocab 11\)/,
  );
});

Deno.test("sample cpu: greedy is the argmax, the same cached or not; seeds reproduce draws", async () => {
  const greedy = { maxNewTokens: 9, temperature: 0, seed: 0 };
  const fast = await tokensOf(new CpuCachedModel(CFG, LAYOUT, PARAMS), [7, 2, 2], greedy);
  const slow = await tokensOf(new CpuUncachedModel(CFG, LAYOUT, PARAMS), [7, 2, 2], greedy);
  assert.deepEqual(fast, slow);
  assert.ok(new Set(fast).size > 1, `${fast}`); // not one token over and over
  // Each greedy token is the reference forward's argmax at the last position of what came before.
  const seq = [7, 2, 2, ...fast];
  for (let i = 3; i < seq.length; i++) {
    const { data } = cpuForward(CFG, unflatten(LAYOUT, PARAMS), Int32Array.from(seq.slice(0, i)), 1)
      .logits;
    const last = Array.from(data.subarray((i - 1) * 11, i * 11));
    assert.equal(seq[i], last.indexOf(Math.max(...last)), `token ${i}`);
  }
  // Draws at temperature 2: the same seed, the same tokens; cached or not.
  const hot = { maxNewTokens: 9, temperature: 2, topP: 0.95, seed: 42 };
  const a = await tokensOf(new CpuCachedModel(CFG, LAYOUT, PARAMS), [7], hot);
  const b = await tokensOf(new CpuUncachedModel(CFG, LAYOUT, PARAMS), [7], hot);
  const c = await tokensOf(new CpuCachedModel(CFG, LAYOUT, PARAMS), [7], { ...hot, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // top-k 1 draws the argmax whatever the temperature
  const k1 = await tokensOf(new CpuCachedModel(CFG, LAYOUT, PARAMS), [7, 2, 2], {
    ...greedy,
    temperature: 5,
    topK: 1,
  });
  assert.deepEqual(k1, fast);
});

Deno.test("sample cpu: each token's probability is the softmax of its logits", async () => {
  const model = new CpuCachedModel(CFG, LAYOUT, PARAMS);
  for await (const t of generate(model, [1, 2], { maxNewTokens: 3, temperature: 1, seed: 5 })) {
    const logits = Array.from(t.logits);
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    assert.ok(Math.abs(t.prob - Math.exp(logits[t.token]!) / z) < 1e-12, `${t.prob}`);
  }
});

Deno.test("sample cpu: n_ctx and bad options are refused in one line", async () => {
  const model = () => new CpuCachedModel(CFG, LAYOUT, PARAMS);
  const ok = { maxNewTokens: 1, temperature: 0, seed: 0 };
  // 12 positions: a 10-token prompt and 3 new tokens read 12; 4 new would read 13
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal((await tokensOf(model(), ten, { ...ok, maxNewTokens: 3 })).length, 3);
  for (
    const [prompt, options, message] of [
      [ten, { ...ok, maxNewTokens: 4 }, /needs 13 positions, more than n_ctx 12$/],
      [[], ok, /the prompt is empty/],
      [[1], { ...ok, maxNewTokens: 0 }, /max new tokens 0: expected a positive integer/],
      [[1], { ...ok, temperature: -1 }, /temperature -1: expected a number >= 0/],
      [[1], { ...ok, topK: 0 }, /top-k 0: expected an integer >= 1/],
      [[1], { ...ok, topP: 1.5 }, /top-p 1.5: expected a number in \(0, 1\]/],
    ] as const
  ) {
    await assert.rejects(() => tokensOf(model(), [...prompt], options), message);
  }
});
