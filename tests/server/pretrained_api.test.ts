// An imported GPT-2 (a tiny random one with GPT-2's real vocabulary of 50,257, so its tokenizer
// applies) through the server: listed as imported with its source and parameter count (counted by
// hand below), its tokens text for the prompt views, prompts read by GPT-2's BPE with BOS first,
// answers one token without BOS, and the costly analyses run unasked on a model this small.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { withTempDir } from "../helpers.ts";
import { importTinyGpt2, TINY_GPT2 } from "../runs/hf_gpt2.ts";

Deno.test("server: an imported GPT-2 is listed as imported and reads prompts with GPT-2's BPE", async () => {
  await withTempDir(async (dir) => {
    await importTinyGpt2(`${dir}/runs`);
    const server = await startServer({ port: 0, runs: `${dir}/runs` });
    try {
      const get = async (path: string) => {
        const r = await fetch(`http://127.0.0.1:${server.port}${path}`, {
          headers: { authorization: `Bearer ${server.token}` },
        });
        return { status: r.status, body: await r.json() };
      };
      const { n_embd: D, n_layer: L, n_head: H, n_positions: C, vocab_size: V } = TINY_GPT2;
      const E = D / H;
      // Processed as from_pretrained: no LayerNorm weights (folded), b_U from ln_f's bias.
      const block = 3 * H * D * E + 3 * H * E + H * E * D + D + D * 4 * D + 4 * D + 4 * D * D + D;
      const nParams = V * D + C * D + L * block + D * V + V;
      const runs = (await get("/api/runs")).body;
      assert.deepEqual(
        { ...runs[0], started: "" },
        {
          name: "tinygpt2",
          task: "pretrained",
          preset: "import",
          status: "imported",
          step: 0,
          steps: 0,
          metrics: {},
          started: "",
          imported: { source: "tinygpt2", n_params: nParams },
        },
      );
      assert.deepEqual((await get("/api/runs/tinygpt2/vocab")).body, {
        textual: true,
        eager: true,
        n_ctx: C,
        d_vocab: V,
        d_vocab_out: V,
      });
      const prompt = encodeURIComponent("Hello world, hello world");
      const seq = (await get(`/api/runs/tinygpt2/sequence?step=0&prompt=${prompt}`)).body;
      assert.deepEqual(seq.tokens, ["<|endoftext|>", "Hello", " world", ",", " hello", " world"]);
      assert.deepEqual(seq.ids, [50256, 15496, 995, 11, 23748, 995]);
      const q = "step=0&prompt=When%20Mary%20and%20John&corrupt=When%20John%20and%20Mary" +
        "&answer=%20Mary&corrupt_answer=%20John";
      const patch = (await get(`/api/runs/tinygpt2/patch?${q}`)).body;
      assert.deepEqual([patch.clean_answer, patch.corrupt_answer], [5335, 1757]);
      assert.deepEqual(patch.answer_texts, [" Mary", " John"]);
      assert.equal(patch.resid_pre.length, L);
      assert.equal(patch.resid_pre[0].length, 5); // BOS, When, Mary, and, John
      const two = await get(
        `/api/runs/tinygpt2/patch?${q.replace("answer=%20Mary", "answer=%20Mary%20Ann")}`,
      );
      assert.deepEqual(two, {
        status: 400,
        body: { error: `answer " Mary Ann" is 2 tokens; give one` },
      });
    } finally {
      await server.close();
    }
  });
});
