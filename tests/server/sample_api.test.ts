// deno-lint-ignore-file no-explicit-any -- the API's JSON answers, read field by field
// `GET /api/runs/NAME/sample`: the continuation streamed as NDJSON from a worker, each token with
// the float64 reference's argmax and probability on the tiny smoke run; refusals before the
// stream as every endpoint's (400, 404), one line each.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { argmax, referenceLogits, softmaxAt, trainTiny } from "../sample/sample_helpers.ts";

Deno.test("serve: sample streams greedy tokens with their probabilities, refuses bad requests", async () => {
  const runs = await Deno.makeTempDir();
  const run = await trainTiny(runs);
  const server = await startServer({ port: 0, runs });
  const origin = `http://127.0.0.1:${server.port}`;
  const get = (query: string) =>
    fetch(`${origin}/api/runs/t/sample?${query}`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
  try {
    const res = await get(`prompt=${encodeURIComponent("35=")}&max_new_tokens=1&step=20`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^application\/x-ndjson/);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    const logits = await referenceLogits(run, 20, [3, 5, 7]);
    const answer = argmax(logits);
    assert.equal(lines.length, 2);
    assert.equal(lines[0].token, answer);
    assert.equal(lines[0].text, String(answer));
    assert.ok(Math.abs(lines[0].prob - softmaxAt(logits, answer)) < 1e-5, `${lines[0].prob}`);
    assert.deepEqual(lines[1], {
      done: true,
      step: 20,
      prompt_tokens: [3, 5, 7],
      new_tokens: [answer],
      text: String(answer),
    });
    // Three drawn tokens from "3", seeded: the same twice, one line each and the last.
    const hot = "prompt=3&max_new_tokens=3&temperature=2&seed=9";
    const [a, b] = [await (await get(hot)).text(), await (await get(hot)).text()];
    assert.equal(a, b);
    assert.equal(a.trim().split("\n").length, 4);
    for (
      const [query, status, message] of [
        ["max_new_tokens=1", 400, /needs \?prompt=TEXT/],
        ["prompt=3x", 400, /character "x" \(at 1\) is not in the vocabulary/],
        ["prompt=35=&max_new_tokens=2", 400, /needs 4 positions, more than n_ctx 3/],
        ["prompt=3&temperature=hot", 400, /temperature "hot": not a number/],
        ["prompt=3&step=7", 404, /no checkpoint at step 7/],
      ] as const
    ) {
      const r = await get(query);
      const body: any = await r.json();
      assert.equal(r.status, status, query);
      assert.match(body.error, message);
      assert.ok(!body.error.includes("\n"));
    }
  } finally {
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
});
