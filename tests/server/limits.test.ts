// The server's limits on child processes hold under concurrency: many simultaneous launches of
// trainings or analyses start exactly the limit, and the rest get a one-line 429. The children are
// a stub (`sleep`), so the test measures the server's counting, not training.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { until } from "../helpers.ts";

/** A server on `runs` whose children are `sleep 60`, at most 3 trainings and 2 analyses. */
async function stubServer(runs: string) {
  const server = await startServer({
    port: 0,
    runs,
    maxTrainings: 3,
    maxAnalyses: 2,
    command: () => ({ program: "sleep", args: ["60"] }),
  });
  const call = async (path: string, method = "GET", body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  return { server, call };
}

/** Counts of each status, e.g. `{ 201: 3, 429: 17 }`. */
function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

Deno.test("serve: 20 simultaneous launches start exactly the limit; the rest get 429", async () => {
  const runs = await Deno.makeTempDir();
  const { server, call } = await stubServer(runs);
  try {
    // Named and unnamed launches alike: the unnamed ones await a free name before launching.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call("/api/runs", "POST", {
          preset: "smoke",
          ...(i % 2 === 0 ? { name: `r${i}` } : {}),
        })),
    );
    assert.deepEqual(tally(answers.map((a) => a.status)), { 201: 3, 429: 17 });
    const names = answers.filter((a) => a.status === 201).map((a) => a.body.name);
    assert.equal(new Set(names).size, 3, `distinct names: ${names}`);
    for (const a of answers.filter((a) => a.status === 429)) {
      assert.deepEqual(a.body, { error: "3 runs are training (at most 3); stop one first" });
    }
    const alive = async () =>
      (await Promise.all(names.map((n) => call(`/api/runs/${n}/log`))))
        .filter((l) => l.body.running).length;
    assert.equal(await alive(), 3);
    // A refused launch holds no place: once one run ends, one launch starts again.
    assert.equal((await call(`/api/runs/${names[0]}/stop`, "POST")).status, 202);
    await until("the stopped run to end", async () => (await alive()) < 3);
    const again = await Promise.all(
      [0, 1].map(() => call("/api/runs", "POST", { preset: "smoke" })),
    );
    assert.deepEqual(again.map((a) => a.status).sort(), [201, 429]);
    // A bad body is a 400 whatever the load.
    assert.equal((await call("/api/runs", "POST", { preset: "nope" })).status, 400);
  } finally {
    await server.close({ graceMs: 1000 });
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
  const { server, call } = await stubServer(runs);
  try {
    const answers = await Promise.all(
      Array.from({ length: 45 }, (_, i) => call(`/api/runs/a${i}/analyze`, "POST")),
    );
    assert.deepEqual(tally(answers.map((a) => a.status)), { 202: 2, 429: 43 });
    const refused = answers.find((a) => a.status === 429)!;
    assert.deepEqual(refused.body, {
      error: "2 analyses are running (at most 2); wait for one first",
    });
  } finally {
    await server.close({ graceMs: 1000 });
    await Deno.remove(runs, { recursive: true });
  }
});
