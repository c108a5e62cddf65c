// The analysis endpoints against a runs folder written here: analysis files in the shapes of
// engine/analysis/report.ts (answered byte for byte), a checkpoint of initial weights for the
// inspect endpoint (its tokens and answer worked out by hand), and every refusal: token, method,
// names, steps, examples, a run never analysed, a link in place of the analysis folder.
import * as assert from "node:assert/strict";
import type { AnalysisIndex, CheckpointReport } from "../../engine/analysis/report.ts";
import { initParams, paramLayout, unflatten } from "../../engine/model/params.ts";
import { writeSafetensorsAtomic } from "../../engine/runs/mod.ts";
import { startServer } from "../../engine/server/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";

const P = 23; // the smoke preset's modulus: p² = 529 examples

const INDEX: AnalysisIndex = {
  run: "alpha",
  task: "modular",
  p: P,
  n_layers: 1,
  n_heads: 4,
  n_ctx: 3,
  vocab: [...Array.from({ length: P }, (_, i) => String(i)), "="],
  examples: P * P,
  split: Array.from({ length: P * P }, (_, i) => i % 2),
  group: Array(P * P).fill(0),
  groups: ["all"],
  targets: Array.from({ length: P * P }, (_, i) => (Math.floor(i / P) + (i % P)) % P),
  steps: [100],
  progress: [{
    step: 100,
    train_loss: 0.5,
    test_loss: 3.5,
    train_acc: 0.9,
    test_acc: 0.1,
    sum_sq_weights: 1200,
    decomposition_error: 2e-7,
    key_freqs: [4],
  }],
};

const REPORT: CheckpointReport = {
  step: 100,
  progress: INDEX.progress[0]!,
  example_loss: Array.from({ length: P * P }, (_, i) => i / 100),
  embedding_pca: { explained: [0.4, 0.2], coords: INDEX.vocab.map((_, t) => [t, -t]) },
  heads: [{ layer: 0, head: 0, qk_singular: [3, 1], ov_singular: [2, 0.5] }],
};

/** alpha: analysed, with a checkpoint at step 100; beta: trained, never analysed; gamma: a link. */
async function writeRuns(runs: string): Promise<void> {
  const config = resolveConfig("smoke", { train: { steps: 100 } }, "0.1.0");
  for (const name of ["alpha", "beta", "gamma"]) {
    await Deno.mkdir(`${runs}/${name}/checkpoints`, { recursive: true });
    await Deno.writeTextFile(`${runs}/${name}/config.json`, JSON.stringify(config));
  }
  const layout = paramLayout(config.model);
  const weights = unflatten(layout, initParams(config.model, layout));
  await writeSafetensorsAtomic(`${runs}/alpha/checkpoints/step_000100.safetensors`, weights, {
    step: "100",
  });
  await Deno.mkdir(`${runs}/alpha/analysis`);
  await Deno.writeTextFile(`${runs}/alpha/analysis/index.json`, JSON.stringify(INDEX, null, 2));
  await Deno.writeTextFile(`${runs}/alpha/analysis/step_000100.json`, JSON.stringify(REPORT));
  // gamma's analysis folder is a link to alpha's: it must not be followed.
  await Deno.symlink(`${runs}/alpha/analysis`, `${runs}/gamma/analysis`);
}

/** Runs `fn` with a server over the runs written here; `get` sends the token unless told not to. */
async function withServer(
  fn: (
    get: (path: string, init?: RequestInit & { token?: string }) => Promise<Response>,
  ) => Promise<void>,
) {
  const runs = await Deno.makeTempDir();
  await writeRuns(runs);
  const server = await startServer({ port: 0, runs });
  const origin = `http://127.0.0.1:${server.port}`;
  try {
    await fn((path, init = {}) =>
      fetch(origin + path, {
        ...init,
        headers: { authorization: `Bearer ${init.token ?? server.token}` },
      })
    );
  } finally {
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
}

/** Asserts an error answer: its status and its one-line `error`. */
async function assertError(res: Response, status: number, error: string | RegExp) {
  assert.equal(res.status, status);
  const body = await res.json();
  if (typeof error === "string") assert.equal(body.error, error);
  else assert.match(body.error, error);
  assert.ok(!body.error.includes("\n"));
}

Deno.test("analysis: the index and a step's report, as written", async () => {
  await withServer(async (get) => {
    const index = await get("/api/runs/alpha/analysis");
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type")!, /^application\/json/);
    assert.deepEqual(await index.json(), INDEX);
    const step = await get("/api/runs/alpha/analysis?step=100");
    assert.equal(step.status, 200);
    assert.deepEqual(await step.json(), REPORT);
  });
});

Deno.test("analysis: a run never analysed says what to run; bad steps and names are refused", async () => {
  await withServer(async (get) => {
    await assertError(
      await get("/api/runs/beta/analysis"),
      404,
      /^run 'beta' has not been analysed: run `mechlab analyze --run \S*beta`$/,
    );
    await assertError(
      await get("/api/runs/alpha/analysis?step=200"),
      404,
      "run 'alpha' has no analysis at step 200 (see its analysis index)",
    );
    for (const bad of ["-1", "1.5", "abc", "", "1e3"]) {
      await assertError(
        await get(`/api/runs/alpha/analysis?step=${encodeURIComponent(bad)}`),
        400,
        `step ${JSON.stringify(bad)}: must be a whole number >= 0`,
      );
    }
    await assertError(await get("/api/runs/nope/analysis"), 404, "run 'nope' not found");
    await assertError(await get("/api/runs/..%2Falpha/analysis"), 400, /run name/);
    // A link in place of analysis/ is not followed: as if never analysed.
    await assertError(await get("/api/runs/gamma/analysis"), 404, /has not been analysed/);
  });
});

Deno.test("inspect: one example at a checkpoint, and its refusals", async () => {
  await withServer(async (get) => {
    // Example 30 of p = 23 is (x, y) = (1, 7): tokens "1", "7", "=" and answer 8.
    const res = await get("/api/runs/alpha/inspect?step=100&example=30");
    assert.equal(res.status, 200);
    const r = await res.json();
    assert.deepEqual([r.step, r.example, r.tokens, r.target], [100, 30, ["1", "7", "="], 8]);
    assert.equal(r.patterns.length, 1); // [L][H][T][T]: the smoke model's one layer
    assert.equal(r.patterns[0].length, 4);
    for (const head of r.patterns[0]) {
      for (const row of head) {
        assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b) - 1) < 1e-9);
      }
    }

    // Patched by default into (2, 0) → 2, which differs in x and y: the x position matters.
    assert.equal(r.patching.corrupt_example, 2 * 23 + 0);
    assert.notEqual(r.patching.resid_pre[0][0], 0);
    assert.notEqual(r.patching.resid_pre[0][0], null);
    // Asked for (1, 8) → 9: the same x, so patching position 0 restores nothing (exactly 0).
    const asked = await (await get("/api/runs/alpha/inspect?step=100&example=30&partner=31"))
      .json();
    assert.equal(asked.patching.corrupt_example, 31);
    assert.equal(asked.patching.resid_pre[0][0], 0);
    assert.deepEqual(asked.tokens, r.tokens); // the clean run is the same
    for (
      const [partner, why] of [
        ["30", "partner 30 is the example itself: pick another"],
        ["8", "partner 8 has the same answer as example 30 (8): patching needs another"],
        ["529", "partner 529: the task has 529 examples (0 to 528)"],
        ["y", 'partner "y": must be a whole number >= 0'],
      ]
    ) {
      await assertError(
        await get(`/api/runs/alpha/inspect?step=100&example=30&partner=${partner}`),
        400,
        why!,
      );
    }
    await assertError(
      await get("/api/runs/alpha/inspect?step=300&example=30"),
      404,
      "run 'alpha' has no checkpoint at step 300",
    );
    await assertError(
      await get("/api/runs/alpha/inspect?step=100&example=529"),
      400,
      "example 529: the task has 529 (0 to 528)",
    );
    await assertError(
      await get("/api/runs/alpha/inspect?step=100&example=x"),
      400,
      'example "x": must be a whole number >= 0',
    );
    await assertError(
      await get("/api/runs/alpha/inspect?step=100"),
      400,
      "inspect needs ?step=S&example=I",
    );
    await assertError(await get("/api/runs/beta/inspect?step=0&example=0"), 404, /no checkpoints/);
  });
});

Deno.test("sequence and patch: an example, token ids or a prompt; bad requests are 400s", async () => {
  await withServer(async (get) => {
    const res = await get("/api/runs/alpha/sequence?step=100&example=30&pos=1");
    assert.equal(res.status, 200);
    const r = await res.json();
    // example 30 is (1, 7): its only target is at the last position, so position 1 follows the
    // model's own prediction
    assert.deepEqual([r.tokens, r.pos, r.target_from], [["1", "7", "="], 1, "prediction"]);
    assert.equal(r.patterns.length, 1);
    assert.deepEqual(r.loss.slice(0, 2), [null, null]);
    // "17 =" reads as the labels "17" and "=" (words, as `sample` reads a prompt)
    const prompt = await (await get("/api/runs/alpha/sequence?step=100&prompt=17%20%3D")).json();
    assert.deepEqual(prompt.tokens, ["17", "="]);
    const ids = await (await get("/api/runs/alpha/sequence?step=100&tokens=1,7,23&pos=-1")).json();
    assert.deepEqual([ids.tokens, ids.pos], [["1", "7", "="], 2]);
    const patched = await (await get("/api/runs/alpha/patch?step=100&example=30")).json();
    assert.deepEqual([patched.clean, patched.corrupt], [["1", "7", "="], ["1", "8", "="]]);
    assert.deepEqual([patched.clean_answer, patched.corrupt_answer], [8, 9]);
    assert.equal(patched.resid_pre[0].length, 3);
    assert.equal(patched.attribution.resid_pre[0].length, 3);
    const answered = await (await get(
      "/api/runs/alpha/patch?step=100&example=30&answer=5&corrupt_answer=6",
    )).json();
    assert.deepEqual([answered.clean_answer, answered.corrupt_answer], [5, 6]);
    const alone = await (await get("/api/runs/alpha/patch?step=100&example=30&patching=0")).json();
    assert.deepEqual([alone.patched, alone.resid_pre], [false, []]);
    const vocab = await (await get("/api/runs/alpha/vocab")).json();
    assert.deepEqual(vocab, {
      textual: false,
      eager: true,
      n_ctx: 3,
      d_vocab: 24,
      d_vocab_out: 23,
    });
    const detect = await (await get("/api/runs/alpha/detect?step=100")).json();
    assert.equal(detect.induction.length, 1);
    const bad: [string, number, string | RegExp][] = [
      ["sequence?step=100&prompt=x", 400, `prompt: token "x" is not in the vocabulary`],
      ["patch?step=100&example=30&answer=1%202", 400, `answer "1 2" is 2 tokens; give one`],
      ["detect?step=300", 404, "run 'alpha' has no checkpoint at step 300"],
      ["patch?step=100&example=30&patching=no", 400, `patching "no": must be 0 or 1`],
      ["sequence?step=100&example=30&pos=3", 400, "pos 3: the sequence has 3 positions (0 to 2)"],
      ["sequence?step=100&example=30&pos=a", 400, /pos "a": must be an integer/],
      ["sequence?step=100&example=30&prompt=1", 400, "give one of example, tokens or prompt"],
      ["sequence?step=100", 400, "give one of example, tokens or prompt"],
      ["sequence?step=300&example=30", 404, "run 'alpha' has no checkpoint at step 300"],
      ["patch?step=100&tokens=1,7,23&corrupt_tokens=1,8", 400, /has 3 tokens, the corrupted 2/],
      [
        "patch?step=100&prompt=17%20%3D",
        400,
        "patching a prompt needs a corrupted one of the same length",
      ],
    ];
    for (const [path, status, error] of bad) {
      await assertError(await get(`/api/runs/alpha/${path}`), status, error);
    }
  });
});

Deno.test("analysis endpoints: token and method checked like every other", async () => {
  await withServer(async (get) => {
    for (const path of ["/api/runs/alpha/analysis", "/api/runs/alpha/inspect?step=100&example=0"]) {
      await assertError(await get(path, { token: "wrong" }), 401, /token/);
      await assertError(await get(path, { method: "POST" }), 405, "POST is not allowed here (GET)");
    }
  });
});
