// The server's limits on child processes hold under concurrency: many simultaneous launches of
// trainings or analyses start exactly the limit, and the rest get a one-line 429. The children are
// a stub (`sleep`), so the test measures the server's counting, not training.
import * as assert from "node:assert/strict";
import { createHandler } from "../../engine/server/app.ts";
import { EventHub } from "../../engine/server/events.ts";
import { Launcher } from "../../engine/server/launcher.ts";
import { RunIndex } from "../../engine/server/run_index.ts";
import { resolveConfig } from "../../engine/train/presets.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const PORT = 7310;
const STUB = () => ({ program: "sleep", args: ["60"] });

/** A handler over `runs` whose launchers start the stub, at most `trainings` and `analyses`. */
function stubServer(runs: string, limits: { trainings: number; analyses: number }) {
  const index = new RunIndex(runs);
  const launcher = new Launcher({ command: STUB, limit: limits.trainings });
  const analyzer = new Launcher({ command: STUB, limit: limits.analyses });
  const hub = new EventHub(index, () => launcher.running()); // never started: no stream is asked
  const handle = createHandler({
    token: TOKEN,
    port: () => PORT,
    assets: { html: "", js: "", css: "" },
    api: { runs, index, launcher, analyzer, hub, version: "0.0.0" },
  });
  const post = async (path: string, body?: unknown) => {
    const res = await handle(
      new Request(`http://127.0.0.1:${PORT}${path}`, {
        method: "POST",
        headers: { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${TOKEN}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    return { status: res.status, body: await res.json() };
  };
  return { launcher, analyzer, post };
}

/** Counts of each status, e.g. `{ 201: 3, 429: 17 }`. */
function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

Deno.test("serve: 20 simultaneous launches start exactly the limit; the rest get 429", async () => {
  const runs = await Deno.makeTempDir();
  const server = stubServer(runs, { trainings: 3, analyses: 2 });
  try {
    // Named and unnamed launches alike: the unnamed ones await a free name before launching.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        server.post("/api/runs", {
          preset: "smoke",
          ...(i % 2 === 0 ? { name: `r${i}` } : {}),
        })),
    );
    assert.deepEqual(tally(answers.map((a) => a.status)), { 201: 3, 429: 17 });
    assert.equal(server.launcher.running().size, 3);
    const names = answers.filter((a) => a.status === 201).map((a) => a.body.name);
    assert.equal(new Set(names).size, 3, `distinct names: ${names}`);
    for (const a of answers.filter((a) => a.status === 429)) {
      assert.deepEqual(a.body, {
        error: "3 runs are training (at most 3); stop one first",
      });
    }
    // A refused launch holds no place: once one run ends, one launch starts again.
    assert.equal((await server.post(`/api/runs/${names[0]}/stop`)).status, 202);
    const deadline = Date.now() + 30_000;
    while (server.launcher.running().size === 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const again = await Promise.all(
      [0, 1].map(() => server.post("/api/runs", { preset: "smoke" })),
    );
    assert.deepEqual(again.map((a) => a.status).sort(), [201, 429]);
    // A bad body is a 400 whatever the load, and frees nothing it did not take.
    assert.equal((await server.post("/api/runs", { preset: "nope" })).status, 400);
    assert.equal(server.launcher.running().size, 3);
  } finally {
    await server.launcher.close(1000);
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("serve: 45 simultaneous analyses of different runs start exactly the limit", async () => {
  const runs = await Deno.makeTempDir();
  const config = JSON.stringify(resolveConfig("smoke", {}, "0.0.0"));
  for (let i = 0; i < 45; i++) {
    await Deno.mkdir(`${runs}/a${i}`);
    await Deno.writeTextFile(`${runs}/a${i}/config.json`, config);
  }
  const server = stubServer(runs, { trainings: 3, analyses: 2 });
  try {
    const answers = await Promise.all(
      Array.from({ length: 45 }, (_, i) => server.post(`/api/runs/a${i}/analyze`)),
    );
    assert.deepEqual(tally(answers.map((a) => a.status)), { 202: 2, 429: 43 });
    assert.equal(server.analyzer.running().size, 2);
    const refused = answers.find((a) => a.status === 429)!;
    assert.deepEqual(refused.body, {
      error: "2 analyses are running (at most 2); wait for one first",
    });
  } finally {
    await server.analyzer.close(1000);
    await Deno.remove(runs, { recursive: true });
  }
});
