// `mechlab import` of fixtures/tiny_gpt2/ (fixtures/make_tiny_gpt2.py: two tiny random GPT-2s in
// Hugging Face's layout, one with `transformer.` names, mask buffers and its own lm_head, one bare
// with lm_head tied, and their logits by an independent numpy forward in that layout): the
// float64 forward and the f32 CPU sources (cached and uncached) give numpy's log-probs, processed
// (TransformerLens' from_pretrained) or not, and numpy's greedy tokens; processing alone keeps the
// log-probs to float64 rounding and leaves TransformerLens' invariants; the bare folder's
// layer_norm_epsilon (1e-3) is the model's eps and matters; the CLI imports, samples and refuses
// bad input in one line. The GPU paths: import_gpt2_gpu.test.ts.
import * as assert from "node:assert/strict";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { paramLayout, unflatten } from "../../engine/model/params.ts";
import { processWeights } from "../../engine/model/process_weights.ts";
import { gpt2Config, readGpt2Folder } from "../../engine/runs/hf_gpt2.ts";
import { CpuCachedModel, CpuUncachedModel, generate } from "../../engine/sample/mod.ts";
import { mean, type Tensor } from "../../engine/tensor/mod.ts";
import { assertClose, mechlab, withTempDir } from "../helpers.ts";
import { FIXTURE, importAll, logSoftmaxRows } from "./gpt2_helpers.ts";

const V = 300; // the fixtures' vocab_size
const TOKENS = new Int32Array(FIXTURE.tokens);
const FOLDER = (name: string) =>
  new URL(`../../fixtures/tiny_gpt2/${name}`, import.meta.url).pathname;

Deno.test("import gpt2: the float64 forward gives numpy's logits (raw) and log-probs (processed)", async () => {
  await withTempDir(async (dir) => {
    for (const run of await importAll(dir)) {
      const expected = FIXTURE.cases[run.fixture].logits.flat();
      const weights = unflatten(run.layout, run.params);
      const { logits } = cpuForward(run.cfg, weights, TOKENS, 1); // [1, T, V]
      assert.equal(run.cfg.normalization_type, run.name.endsWith("_raw") ? "LN" : "LNPre");
      // The same f32 weights in float64 on both sides: only the fixture's 9 digits differ.
      if (run.name.endsWith("_raw")) assertClose(logits.data, expected, 1e-6, `${run.name} logits`);
      // Processed weights are rounded to f32 after processing: about 1e-6 of the logits.
      assertClose(
        logSoftmaxRows(logits.data, V),
        logSoftmaxRows(expected, V),
        1e-4,
        `${run.name} log-probs`,
      );
    }
  });
});

Deno.test("import gpt2: the f32 CPU sources, cached and uncached, give numpy's log-probs and greedy tokens", async () => {
  await withTempDir(async (dir) => {
    for (const run of await importAll(dir)) {
      const expected = logSoftmaxRows(FIXTURE.cases[run.fixture].logits.flat(), V);
      for (const Source of [CpuCachedModel, CpuUncachedModel]) {
        const model = new Source(run.cfg, run.layout, run.params);
        const got: number[] = [];
        for (const t of FIXTURE.tokens) got.push(...model.push(t));
        const what = `${run.name} ${Source.name}`;
        assertClose(logSoftmaxRows(got, V), expected, 2e-4, `${what} log-probs`);
        const fresh = new Source(run.cfg, run.layout, run.params);
        const options = {
          maxNewTokens: FIXTURE.cases[run.fixture].greedy.length,
          temperature: 0,
          seed: 0,
        };
        const tokens: number[] = [];
        for await (const t of generate(fresh, FIXTURE.prompt, options)) tokens.push(t.token);
        assert.deepEqual(tokens, FIXTURE.cases[run.fixture].greedy, `${what} greedy`);
      }
    }
  });
});

Deno.test("import gpt2: processing keeps the log-probs and leaves TransformerLens' invariants", async () => {
  for (const name of ["prefixed", "bare"]) {
    const raw = await readGpt2Folder(FOLDER(name));
    const before = logSoftmaxRows(cpuForward(raw.cfg, raw.weights, TOKENS, 1).logits.data, V);
    // Processed in place, so on float64 copies here: equal to rounding.
    const f64 = new Map([...raw.weights].map(([n, t]) => [n, t.astype("f64")]));
    const { cfg, weights } = processWeights(raw.cfg, f64);
    const after = cpuForward(cfg, weights, TOKENS, 1).logits;
    assertClose(logSoftmaxRows(after.data, V), before, 1e-10, name);
    // In place on the file's f32, as the import does: each step rounded to f32 once.
    const inF32 = processWeights(raw.cfg, raw.weights).weights;
    assert.ok([...inF32.values()].every((t) => t.dtype === "f32"), "f32 stays f32");
    const afterF32 = cpuForward(cfg, inF32, TOKENS, 1).logits;
    assertClose(logSoftmaxRows(afterF32.data, V), before, 1e-5, `${name} in f32`);
    assert.equal(cfg.normalization_type, "LNPre");
    assert.deepEqual([...weights.keys()].filter((k) => /ln(1|2|_final)\./.test(k)), []);
    const W = (n: string) => weights.get(n)!;
    const maxAbs = (t: Tensor) => Math.max(...Array.from(t.data, Math.abs));
    // Writing weights: zero mean over d_model (their last axis).
    for (const n of ["embed.W_E", "pos_embed.W_pos", "blocks.1.attn.W_O", "blocks.0.mlp.W_out"]) {
      assert.ok(maxAbs(mean(W(n), -1)) < 1e-12, `${n} centred over d_model`);
    }
    // The unembedding: zero mean over the vocabulary, b_U too; value biases folded into b_O.
    assert.ok(maxAbs(mean(W("unembed.W_U"), 1)) < 1e-12, "W_U centred over the vocabulary");
    assert.ok(Math.abs(mean(W("unembed.b_U")).data[0]!) < 1e-12, "b_U centred");
    assert.equal(maxAbs(W("blocks.0.attn.b_V")), 0);
    // Weights that read a LayerNorm: zero mean over d_model (W_Q's axis 1, W_in's and W_U's 0).
    assert.ok(maxAbs(mean(W("blocks.1.attn.W_K"), 1)) < 1e-12, "W_K centred over d_model");
    assert.ok(maxAbs(mean(W("blocks.0.mlp.W_in"), 0)) < 1e-12, "W_in centred over d_model");
    assert.ok(maxAbs(mean(W("unembed.W_U"), 0)) < 1e-12, "W_U centred over d_model");
    assert.equal(paramLayout(cfg).specs.every((s) => weights.has(s.name)), true);
  }
});

Deno.test("import gpt2: layer_norm_epsilon is the model's eps, and it matters", async () => {
  // The bare folder's 1e-3 (make_tiny_gpt2.py): the paths above give numpy's log-probs with it,
  // and at GPT-2's 1e-5 instead they would be off by far more than those tests' 2e-4.
  const raw = await readGpt2Folder(FOLDER("bare"));
  assert.equal(raw.cfg.eps, 1e-3);
  const expected = logSoftmaxRows(FIXTURE.cases.bare.logits.flat(), V);
  const at = (eps: number) =>
    logSoftmaxRows(cpuForward({ ...raw.cfg, eps }, raw.weights, TOKENS, 1).logits.data, V);
  assertClose(at(1e-3), expected, 1e-6, "eps 1e-3");
  const off = Math.max(...at(1e-5).map((x, i) => Math.abs(x - expected[i]!)));
  assert.ok(off > 1e-2, `at eps 1e-5 the log-probs move by ${off}`);
  const config = JSON.parse(await Deno.readTextFile(`${FOLDER("bare")}/config.json`));
  assert.equal(gpt2Config({ ...config, layer_norm_epsilon: 1e-6 }, "c.json").eps, 1e-6);
  assert.equal(gpt2Config({ ...config, layer_norm_epsilon: undefined }, "c.json").eps, 1e-5);
  for (const bad of [0, -1e-5, "1e-5"]) {
    assert.throws(
      () => gpt2Config({ ...config, layer_norm_epsilon: bad }, "c.json"),
      /^RunInputError: c\.json: layer_norm_epsilon must be a positive number \(got .*\)$/,
    );
  }
});

Deno.test("import gpt2: the CLI imports, samples numpy's greedy tokens and refuses bad input in one line", async () => {
  await withTempDir(async (dir) => {
    const imported = await mechlab("import", "--from", FOLDER("prefixed"), "--out", dir);
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /imported .* into .*prefixed/);
    const sampled = await mechlab(
      ...["sample", "--run", `${dir}/prefixed`, "--prompt", FIXTURE.prompt.join(" ")],
      ...["--max-new-tokens", "10", "--json"],
    );
    assert.equal(sampled.code, 0, sampled.err);
    assert.deepEqual(JSON.parse(sampled.out).new_tokens, FIXTURE.cases.prefixed.greedy);
    const again = await mechlab("import", "--from", FOLDER("prefixed"), "--out", dir);
    assert.equal(again.code, 2);
    assert.match(again.err, /exists; pass --force/);
    // A config this forward does not implement: refused, naming the field.
    const bad = `${dir}/silu`;
    await Deno.mkdir(bad);
    const config = JSON.parse(await Deno.readTextFile(`${FOLDER("bare")}/config.json`));
    await Deno.writeTextFile(
      `${bad}/config.json`,
      JSON.stringify({ ...config, activation_function: "silu" }),
    );
    await Deno.copyFile(`${FOLDER("bare")}/model.safetensors`, `${bad}/model.safetensors`);
    const refused = await mechlab("import", "--from", bad, "--out", dir);
    assert.equal(refused.code, 2);
    assert.match(
      refused.err,
      /config\.json: activation_function "silu": expected gelu_new, gelu, relu/,
    );
    assert.equal(refused.err.trim().split("\n").length, 1, refused.err);
    await assert.rejects(Deno.stat(`${dir}/silu_run`));
    const help = await mechlab("import", "--help");
    for (const flag of ["--from DIR", "--name NAME", "--out DIR", "--no-process", "--force"]) {
      assert.ok(help.out.includes(flag), `import --help lists ${flag}`);
    }
    const missing = await mechlab("import", "--out", dir);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^mechlab: --from is required/);
    // An imported model has nothing to train on.
    const train = await mechlab("train", "--resume", `${dir}/prefixed`);
    assert.equal(train.code, 2);
    assert.match(train.err, /task pretrained \(imported from prefixed\) has no training data/);
  });
});
