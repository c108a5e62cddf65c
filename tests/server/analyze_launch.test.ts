// deno-lint-ignore-file no-explicit-any -- the API's JSON answers, read field by field
// `POST /api/runs/NAME/analyze`: the server starts `mechlab analyze` on a run as a child process,
// one per run at a time; its index.json comes out as the command line's own on a copy of the run
// does, and a failing analysis reports its one stderr line. Refusals as every endpoint's.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { mechlabCommand } from "../../engine/server/launcher.ts";
import { maxAbsDiff } from "../../engine/tensor/mod.ts";
import { assertClose, mechlab, until } from "../helpers.ts";

/** A run `t` of the smoke preset made tiny (p = 7, an 8-wide model), checkpoints at 0, 20 and 40. */
async function trainTiny(runs: string): Promise<void> {
  const train = await mechlab(
    "train",
    "--preset=smoke",
    "--p=7",
    "--d-model=8",
    "--n-heads=2",
    "--d-head=4",
    "--d-mlp=16",
    "--steps=40",
    "--eval-every=10",
    "--checkpoint-every=20",
    "--device=cpu",
    `--out=${runs}`,
    "--name=t",
  );
  assert.equal(train.code, 0, train.err);
}

/** Copies a run folder (its files and checkpoints/, no analysis/) to a new name. */
async function copyRun(from: string, to: string): Promise<void> {
  await Deno.mkdir(`${to}/checkpoints`, { recursive: true });
  for (const dir of ["", "/checkpoints"]) {
    for await (const e of Deno.readDir(from + dir)) {
      if (e.isFile) await Deno.copyFile(`${from}${dir}/${e.name}`, `${to}${dir}/${e.name}`);
    }
  }
}

/** Every number in a JSON value, depth first. */
function numbers(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (v === null || typeof v !== "object") return [];
  return Object.values(v).flatMap(numbers);
}

Deno.test("serve: analyze starts mechlab analyze on a run, one at a time, and reports failure", async () => {
  const runs = await Deno.makeTempDir();
  await trainTiny(runs);
  await Deno.mkdir(`${runs}/bare`); // a config and no checkpoint: analyze fails
  await Deno.copyFile(`${runs}/t/config.json`, `${runs}/bare/config.json`);
  const server = await startServer({ port: 0, runs });
  const origin = `http://127.0.0.1:${server.port}`;
  const auth = { authorization: `Bearer ${server.token}` };
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(origin + path, { ...init, headers: { ...auth, ...init.headers } });
    const body = await res.json();
    if (res.status >= 400) assert.ok(!String(body.error).includes("\n"), body.error);
    return { status: res.status, body, res };
  };
  const post = (name: string) => call(`/api/runs/${name}/analyze`, { method: "POST" });
  const ended = async (name: string) => {
    let log: any;
    await until(`${name}'s analysis to end`, async () => {
      log = (await call(`/api/runs/${name}/analyze`)).body;
      return log.running === false;
    });
    return log;
  };
  try {
    const before = await call("/api/runs/t/analysis");
    assert.equal(before.status, 404);
    assert.match(before.body.error, /has not been analysed/);
    assert.equal((await call("/api/runs/t/analyze")).status, 404); // none started here yet

    // Two presses at once: one analysis starts, the other is told it runs.
    const [a, b] = await Promise.all([post("t"), post("t")]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [202, 409]);
    const [started, refused] = a.status === 202 ? [a, b] : [b, a];
    assert.deepEqual(started.body, { analyzing: "t" });
    assert.equal(refused.body.error, "run 't' is being analysed; wait for it to finish");

    const log = await ended("t");
    assert.equal(log.code, 0, log.lines.join("\n"));
    assert.match(log.lines.at(-2), /^analysed 3 checkpoints in /);

    // Every checkpoint is analysed: the index's steps are the checkpoint list's.
    const index = (await call("/api/runs/t/analysis")).body;
    const checkpoints = (await call("/api/runs/t/checkpoints")).body.map((c: any) => c.step);
    assert.deepEqual(index.steps, [...new Set(checkpoints)]);
    assert.deepEqual(index.steps, [0, 20, 40]);
    // And it is what the command line writes for the same run (under another name).
    await copyRun(`${runs}/t`, `${runs}/t_cli`);
    const cli = await mechlab("analyze", `--run=${runs}/t_cli`);
    assert.equal(cli.code, 0, cli.err);
    const want = JSON.parse(await Deno.readTextFile(`${runs}/t_cli/analysis/index.json`));
    assert.equal(index.run, "t");
    assert.equal(want.run, "t_cli");
    assert.deepEqual(Object.keys(index).sort(), Object.keys(want).sort());
    const [got, expected] = [numbers({ ...index, run: 0 }), numbers({ ...want, run: 0 })];
    assert.equal(got.length, expected.length);
    assertClose(got, expected, 1e-9, "index.json from the page vs the command line");
    console.log(`  index.json, page vs command line: max |diff| ${maxAbsDiff(got, expected)}`);

    // Once ended, the run may be analysed again.
    assert.equal((await post("t")).status, 202);
    assert.equal((await ended("t")).code, 0);

    // A failing analysis: its exit code and its one stderr line.
    assert.equal((await post("bare")).status, 202);
    const failed = await ended("bare");
    assert.equal(failed.code, 2);
    assert.equal(failed.error, `mechlab: run ${runs}/bare has no checkpoints yet`);

    // Refusals: a bad name, an unknown run, a wrong method, no token.
    assert.equal((await post("bad%20name")).status, 400);
    assert.equal((await call("/api/runs/bad%20name/analyze")).status, 400);
    const unknown = await post("nope");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "run 'nope' not found");
    const del = await call("/api/runs/t/analyze", { method: "DELETE" });
    assert.equal(del.status, 405);
    assert.equal(del.res.headers.get("allow"), "GET, POST");
    const anonymous = await fetch(`${origin}/api/runs/t/analyze`, { method: "POST" });
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
  } finally {
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("analyze command: the same program, with analyze and its flags", () => {
  const self = {
    execPath: "/usr/bin/deno",
    standalone: false,
    moduleUrl: "file:///w/engine/server/launcher.ts",
    mainPath: "/w/main.ts",
  };
  assert.deepEqual(mechlabCommand(["analyze", "--run=/r/t"], self), {
    program: "/usr/bin/deno",
    args: ["run", "-A", "/w/main.ts", "analyze", "--run=/r/t"],
  });
  assert.deepEqual(mechlabCommand(["analyze", "--run=/r/t"], { ...self, standalone: true }), {
    program: "/usr/bin/deno",
    args: ["analyze", "--run=/r/t"],
  });
});
