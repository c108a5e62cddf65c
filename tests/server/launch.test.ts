// deno-lint-ignore-file no-explicit-any -- the API's JSON answers, read field by field
// Runs started from the API as child processes: a tiny run streams its metrics as events and
// finishes with the config the request resolved to; a long one stops on request with a final
// checkpoint at its last metrics step; while one trains, the server answers (how fast is a
// benchmark's to say: `deno task bench --part serve`); and a launch with shortformer positions and
// Grokfast saves the config `mechlab train`'s flags save, its bad values refused in train's line.
import * as assert from "node:assert/strict";
import meta from "../../deno.json" with { type: "json" };
import { readSafetensors } from "../../engine/runs/mod.ts";
import { startServer } from "../../engine/server/mod.ts";
import { Launcher } from "../../engine/server/launcher.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { train } from "../../cli/train.ts";
import { UsageError } from "../../cli/errors.ts";
import { listDir, mechlab, PATIENCE_MS, withTempDir } from "../helpers.ts";
import { type Events, sse } from "./sse.ts";

/** The smoke preset made tiny: p = 7 and a 8-wide model train 40 steps in well under a second. */
const TINY = {
  task: { p: 7 },
  model: { d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16 },
  train: { steps: 40, eval_every: 10 },
};

interface Server {
  origin: string;
  runs: string;
  call: (path: string, init?: RequestInit) => Promise<{ status: number; body: any }>;
  events: () => Promise<Events>;
}

async function withServer(fn: (s: Server) => Promise<void>): Promise<void> {
  const runs = await Deno.makeTempDir();
  const server = await startServer({ port: 0, runs });
  const origin = `http://127.0.0.1:${server.port}`;
  const auth = { authorization: `Bearer ${server.token}` };
  const streams: Events[] = [];
  try {
    await fn({
      origin,
      runs,
      call: async (path, init = {}) => {
        const res = await fetch(origin + path, { ...init, headers: { ...auth, ...init.headers } });
        return { status: res.status, body: await res.json() };
      },
      events: async () => {
        const res = await fetch(`${origin}/api/events`, { headers: auth });
        const events = sse(res.body!, PATIENCE_MS);
        streams.push(events);
        return events;
      },
    });
  } finally {
    for (const s of streams) await s.cancel();
    await server.close(); // stops any run still going, and waits for it
    await Deno.remove(runs, { recursive: true });
  }
}

Deno.test("serve: a run launched from the API streams metrics and finishes", async () => {
  await withServer(async ({ runs, call, events }) => {
    const stream = await events();
    await stream.next((e) => e.event === "runs"); // connected
    const body = { preset: "smoke", overrides: TINY, device: "cpu" };
    const launched = await call("/api/runs", { method: "POST", body: JSON.stringify(body) });
    assert.equal(launched.status, 201, JSON.stringify(launched.body));
    assert.deepEqual(launched.body, { name: "modular_add_7" }); // the task's name, as train's
    const first = await stream.next((e) =>
      e.event === "metrics" && e.data.name === "modular_add_7"
    );
    assert.equal(first.data.records[0].step, 0);
    const listed = (await call("/api/runs")).body.find((r: any) => r.name === "modular_add_7");
    assert.ok(listed, "listed");
    assert.equal(listed.steps, 40);
    assert.ok(["running", "finished"].includes(listed.status), listed.status);

    // The end: a runs event with it finished (its process gone, its last step 40).
    await stream.next((e) =>
      e.event === "runs" &&
      e.data.some((r: any) => r.name === "modular_add_7" && r.status === "finished")
    );
    const metrics = (await call("/api/runs/modular_add_7/metrics")).body;
    assert.deepEqual(metrics.map((m: any) => m.step), [0, 10, 20, 30, 40]);
    // The child trained the config the request resolved to, flag for flag.
    const config = JSON.parse(await Deno.readTextFile(`${runs}/modular_add_7/config.json`));
    assert.deepEqual(
      config,
      JSON.parse(JSON.stringify(resolveConfig("smoke", TINY, meta.version))),
    );
    const log = (await call("/api/runs/modular_add_7/log")).body;
    assert.equal(log.code, 0, log.lines.join("\n"));
    assert.equal(log.running, false);
    // The run names its folder, then says what to do next with it.
    const folderLine = log.lines.findIndex((l: string) => /run folder: .*modular_add_7$/.test(l));
    assert.ok(folderLine >= 0, log.lines.join("\n"));
    assert.match(log.lines.slice(folderLine).join("\n"), /next:\n.*analyze --run \S*modular_add_7/);
    // The name is taken now: a second launch gets the next free one.
    const again = await call("/api/runs", { method: "POST", body: JSON.stringify(body) });
    assert.deepEqual(again.body, { name: "modular_add_7-2" });
  });
});

Deno.test("serve: stop ends a run after its current step with a final checkpoint", async () => {
  await withServer(async ({ runs, call, events }) => {
    const stream = await events();
    const body = {
      preset: "smoke",
      name: "long",
      device: "cpu",
      overrides: { ...TINY, train: { steps: 1_000_000, eval_every: 20 } },
    };
    assert.equal(
      (await call("/api/runs", { method: "POST", body: JSON.stringify(body) })).status,
      201,
    );
    await stream.next((e) =>
      e.event === "metrics" && e.data.name === "long" &&
      e.data.records.some((r: any) => r.step >= 20)
    );
    assert.equal((await call("/api/runs")).body[0].status, "running");
    const stop = await call("/api/runs/long/stop", { method: "POST" });
    assert.deepEqual(stop, { status: 202, body: {} });
    // A second press sends no second SIGTERM (the run would ignore it anyway).
    assert.equal((await call("/api/runs/long/stop", { method: "POST" })).status, 202);
    await stream.next((e) =>
      e.event === "runs" && e.data.some((r: any) => r.name === "long" && r.status === "stopped")
    );
    const metrics = (await call("/api/runs/long/metrics")).body;
    const last = metrics.at(-1).step;
    assert.ok(last >= 20 && last < 1_000_000, `stopped at ${last}`);
    const final = await readSafetensors(`${runs}/long/checkpoints/final.safetensors`);
    assert.equal(final.metadata.step, String(last), "final checkpoint at the last metrics step");
    const checkpoints = (await call("/api/runs/long/checkpoints")).body;
    assert.deepEqual(checkpoints.at(-1), { step: last, file: "final.safetensors" });
    // SIGTERM's conventional code (128 + 15): the run stopped early, and says so.
    assert.equal((await call("/api/runs/long/log")).body.code, 143);
    assert.equal((await call("/api/runs/long/stop", { method: "POST" })).status, 404);
  });
});

Deno.test("serve: answers API requests while a run trains", async () => {
  await withServer(async ({ call, events }) => {
    const stream = await events();
    const body = {
      preset: "smoke",
      name: "busy",
      device: "cpu",
      overrides: { ...TINY, train: { steps: 1_000_000, eval_every: 20 } },
    };
    assert.equal(
      (await call("/api/runs", { method: "POST", body: JSON.stringify(body) })).status,
      201,
    );
    const trains = async () => (await call("/api/runs/busy/log")).body.running === true;
    await stream.next((e) =>
      e.event === "metrics" && e.data.name === "busy" &&
      e.data.records.some((r: any) => r.step >= 20)
    );
    assert.ok(await trains(), "training when the requests start");
    // Each is answered, and correctly, while the child trains; how fast is `deno task bench
    // --part serve`'s to say (a loaded machine makes any bound here a coin toss).
    for (let i = 0; i < 20; i++) {
      const { status, body } = await call("/api/runs");
      assert.equal(status, 200);
      assert.equal(body.find((r: any) => r.name === "busy")?.status, "running");
    }
    assert.ok(await trains(), "still training after the requests");
    assert.equal((await call("/api/runs/busy/stop", { method: "POST" })).status, 202);
  });
});

Deno.test("serve: positions and Grokfast from the API train the config train's flags do", async () => {
  await withServer(async ({ runs, call, events }) => {
    const stream = await events();
    const overrides = {
      ...TINY,
      model: { ...TINY.model, positional_embedding_type: "shortformer" },
      train: { ...TINY.train, grokfast_alpha: 0.9, grokfast_lambda: 2 },
    };
    const body = { preset: "smoke", name: "api", device: "cpu", overrides };
    const launched = await call("/api/runs", { method: "POST", body: JSON.stringify(body) });
    assert.equal(launched.status, 201, JSON.stringify(launched.body));
    await stream.next((e) =>
      e.event === "runs" && e.data.some((r: any) => r.name === "api" && r.status === "finished")
    );
    const fromApi = JSON.parse(await Deno.readTextFile(`${runs}/api/config.json`));
    await withTempDir(async (out) => {
      const tiny = ["--p", "7", "--d-model", "8", "--n-heads", "2", "--d-head", "4"];
      const { code, err } = await mechlab(
        "train",
        ...["--preset", "smoke", "--device", "cpu", "--out", out, "--name", "cli", ...tiny],
        ...["--d-mlp", "16", "--steps", "40", "--eval-every", "10"],
        ...["--positional-embedding-type", "shortformer"],
        ...["--grokfast-alpha", "0.9", "--grokfast-lambda", "2"],
      );
      assert.equal(code, 0, err);
      assert.deepEqual(fromApi, JSON.parse(await Deno.readTextFile(`${out}/cli/config.json`)));
    });
    assert.equal(fromApi.model.positional_embedding_type, "shortformer");
    assert.deepEqual([fromApi.train.grokfast_alpha, fromApi.train.grokfast_lambda], [0.9, 2]);

    // A bad value: a 400 with the very line train exits with, and no run folder.
    const bad: [Record<string, Record<string, unknown>>, string[]][] = [
      [{ train: { grokfast_alpha: 1 } }, ["--grokfast-alpha", "1"]],
      [{ train: { grokfast_lambda: -2 } }, ["--grokfast-lambda", "-2"]],
      [{ model: { positional_embedding_type: "rotary" } }, [
        "--positional-embedding-type",
        "rotary",
      ]],
    ];
    for (const [overrides, flags] of bad) {
      const answer = await call("/api/runs", {
        method: "POST",
        body: JSON.stringify({ preset: "smoke", name: "bad", device: "cpu", overrides }),
      });
      const cli = await train(["--preset", "smoke", "--device", "cpu", "--out", runs, ...flags])
        .then(() => undefined, (e: Error) => e);
      assert.ok(cli instanceof UsageError, String(cli));
      assert.deepEqual(answer, { status: 400, body: { error: cli.message } }, flags.join(" "));
      assert.doesNotMatch(cli.message, /\n/);
    }
    assert.deepEqual(await listDir(runs), ["api"]);
  });
});

Deno.test("serve: two launches of one name at once start one run; the other gets 409", async () => {
  await withServer(async ({ call }) => {
    const body = JSON.stringify({
      preset: "smoke",
      name: "dup",
      device: "cpu",
      overrides: { task: { p: 7 }, train: { steps: 2000 } },
    });
    const post = () => call("/api/runs", { method: "POST", body });
    // Two: the server trains at most 2 at once on any machine (see limits.test.ts for the limit).
    const statuses = (await Promise.all([post(), post()])).map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409]);
    assert.equal((await call("/api/runs/dup/stop", { method: "POST" })).status, 202);
  });
});

Deno.test("launcher: a live run's name cannot be launched again (its process would be lost)", async () => {
  const launcher = new Launcher({ command: () => ({ program: "sleep", args: ["30"] }) });
  try {
    launcher.launch("dup", []);
    assert.throws(() => launcher.launch("dup", []), /run 'dup' is running/);
  } finally {
    await launcher.close(1000);
  }
});
