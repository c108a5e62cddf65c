// A run trained from the command line beside the server shows as running while it trains (its
// run.lock is held by a live process), as stopped once that process is killed, and as finished
// once a run ends at its last step; the server's own children are not the only running runs.
import * as assert from "node:assert/strict";
import { acquireLock } from "../../engine/runs/mod.ts";
import { startServer } from "../../engine/server/mod.ts";
import { mechlab, until, withTempDir } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const TINY = ["--preset", "smoke", "--p", "7", "--d-model", "8", "--n-heads", "2", "--d-mlp", "16"]
  .concat(["--eval-every", "10", "--device", "cpu"]);

/** `GET /api/runs` of a server over `runs`, as `fn` asks for it. */
async function withServer(
  runs: string,
  fn: (status: (name: string) => Promise<string | undefined>) => Promise<void>,
) {
  const server = await startServer({ port: 0, runs });
  try {
    await fn(async (name) => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/runs`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      const rows: { name: string; status: string }[] = await res.json();
      return rows.find((r) => r.name === name)?.status;
    });
  } finally {
    await server.close();
  }
}

Deno.test("run status: a command-line train shows running, then stopped when killed, finished when done", async () => {
  await withTempDir(async (runs) => {
    await withServer(runs, async (status) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "train", ...TINY, "--steps", "1000000", "--out", runs]
          .concat(["--name", "cli"]),
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await until("the run to show as running", async () => (await status("cli")) === "running");
      } finally {
        child.kill("SIGKILL");
        await child.status;
      }
      await until(
        "the killed run to show as stopped",
        async () => (await status("cli")) === "stopped",
      );

      const done = await mechlab("train", ...TINY, "--steps", "20", "--out", runs, "--name", "ok");
      assert.equal(done.code, 0, done.err);
      assert.equal(await status("ok"), "finished");

      // A lock held in this process counts the same: running while held.
      const lock = await acquireLock(`${runs}/ok`, { command: "train --resume" });
      assert.equal(await status("ok"), "running");
      lock.release();
      assert.equal(await status("ok"), "finished");
    });
  });
});
