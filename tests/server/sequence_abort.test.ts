// A sequence analysis whose client goes away (a page left, a fetch aborted) is stopped, and its
// place among the server's 8 freed. The jobs here cannot end by themselves: the run's final
// checkpoint is a named pipe no one writes, so each worker waits to open it for ever, holding its
// place, until its request is aborted. Released at the end (opened for writing and closed) so
// nothing is left waiting.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { until } from "../helpers.ts";

/** The server's limit of sequence analyses at once (`MAX_JOBS` in engine/server/sequence_api.ts). */
const PLACES = 8;

Deno.test("sequence API: an aborted request stops its job and frees its place", async () => {
  const runs = await Deno.makeTempDir();
  const pipe = `${runs}/blocked/checkpoints/final.safetensors`;
  const config = JSON.stringify(resolveConfig("smoke", { train: { steps: 100 } }, "0.1.0"));
  for (const name of ["blocked", "free"]) {
    await Deno.mkdir(`${runs}/${name}/checkpoints`, { recursive: true });
    await Deno.writeTextFile(`${runs}/${name}/config.json`, config);
  }
  const made = await new Deno.Command("mkfifo", { args: [pipe] }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  const server = await startServer({ port: 0, runs });
  const get = (name: string, signal?: AbortSignal) =>
    fetch(`http://127.0.0.1:${server.port}/api/runs/${name}/detect?step=100`, {
      headers: { authorization: `Bearer ${server.token}` },
      ...(signal === undefined ? {} : { signal }),
    });
  /** A run with no checkpoints yet: a 404 from a worker while a place is free, else a 429. */
  const probe = async () => {
    const res = await get("free");
    await res.body?.cancel();
    return res.status;
  };
  const clients = Array.from({ length: PLACES }, () => new AbortController());
  try {
    assert.equal(await probe(), 404);
    const pending = clients.map((c) =>
      get("blocked", c.signal).then(() => "answered", (e) => e.name)
    );
    await until("every place taken by a blocked job", async () => (await probe()) === 429);
    for (const c of clients) c.abort();
    assert.deepEqual(
      new Set(await Promise.all(pending)),
      new Set(["AbortError"]),
    );
    // The jobs would never end by themselves: only stopping them frees their places.
    await until("the aborted jobs' places freed", async () => (await probe()) === 404);
  } finally {
    // Opened for reading and writing, the pipe does not wait for a reader; its readers are released.
    (await Deno.open(pipe, { read: true, write: true })).close();
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
});
