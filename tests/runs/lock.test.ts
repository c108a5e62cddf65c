// One process per run folder: the lock's record, the one-line refusal naming the holder, a lock
// let go when its process is killed (SIGKILL: nothing stale to take over), a link in place of the
// lock file, run.lock and analysis.lock apart, and a start killed before its rename cleaned up.
import * as assert from "node:assert/strict";
import {
  acquireLock,
  ANALYSIS_LOCK,
  createRunFolder,
  lockHolder,
  RunInputError,
} from "../../engine/runs/mod.ts";
import { listDir, withTempDir } from "../helpers.ts";

const LOCK = new URL("../../engine/runs/lock.ts", import.meta.url).href;

/** A process holding `dir`'s run lock until it is killed; resolves once it holds it. */
async function holder(dir: string): Promise<Deno.ChildProcess> {
  const code = `import { acquireLock } from ${JSON.stringify(LOCK)};
    await acquireLock(${JSON.stringify(dir)}, { command: "train" });
    console.log("held");
    await new Promise(() => setInterval(() => {}, 1000));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("held")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the holder ended before holding the lock");
    out += value;
  }
  reader.releaseLock();
  return child;
}

Deno.test("lock: held, refused in one line naming the holder, let go", async () => {
  await withTempDir(async (dir) => {
    const lock = await acquireLock(dir, { command: "train" });
    const h = (await lockHolder(dir))!;
    assert.equal(h.pid, Deno.pid);
    assert.equal(h.host, Deno.hostname());
    assert.equal(h.command, "train");
    assert.ok(!Number.isNaN(Date.parse(h.started)), h.started);
    await assert.rejects(acquireLock(dir, { command: "train --resume" }), (e) => {
      assert.ok(e instanceof RunInputError);
      assert.equal(
        e.message,
        `${dir} is in use: run.lock is held by process ${Deno.pid} (train, since ${h.started})`,
      );
      return true;
    });
    // The analysis lock is another lock: an analysis of a run still training may start.
    const analysis = await acquireLock(dir, { file: ANALYSIS_LOCK, command: "analyze" });
    await assert.rejects(
      acquireLock(dir, { file: ANALYSIS_LOCK, command: "analyze" }),
      /analysis\.lock is held by process/,
    );
    analysis.release();
    lock.release();
    lock.release(); // twice is fine
    assert.equal(await lockHolder(dir), undefined);
    assert.deepEqual(await listDir(dir), ["analysis.lock", "run.lock"]); // files stay, unheld
    (await acquireLock(dir, { command: "train" })).release();
  });
});

Deno.test("lock: another process's lock refuses; killed with SIGKILL, it is free at once", async () => {
  await withTempDir(async (dir) => {
    const child = await holder(dir);
    try {
      const h = await lockHolder(dir);
      assert.equal(h?.pid, child.pid);
      await assert.rejects(
        acquireLock(dir, { command: "train" }),
        new RegExp(`run\\.lock is held by process ${child.pid} \\(train, since `),
      );
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    // The file still names the dead process, but nobody holds it: taken with no clean-up.
    assert.equal(await lockHolder(dir), undefined);
    const lock = await acquireLock(dir, { command: "train --resume" });
    assert.equal((await lockHolder(dir))?.command, "train --resume");
    lock.release();
  });
});

Deno.test("lock: a link in place of the lock file is refused, not followed", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/elsewhere`, "x");
    await Deno.mkdir(`${dir}/run`);
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/run/run.lock`);
    await assert.rejects(
      acquireLock(`${dir}/run`, { command: "train" }),
      /run\.lock: not a plain file \(a link or a folder\); remove it$/,
    );
    assert.equal(await lockHolder(`${dir}/run`), undefined);
    assert.equal(await Deno.readTextFile(`${dir}/elsewhere`), "x");
  });
});

Deno.test("lock: a start killed before its rename is removed by the next start of that name", async () => {
  await withTempDir(async (dir) => {
    // Left by a start killed before its rename (its lock free) and by one going on (held).
    await Deno.mkdir(`${dir}/.r.new-1-dead`);
    await Deno.writeTextFile(`${dir}/.r.new-1-dead/run.lock`, '{"pid":1}');
    await Deno.mkdir(`${dir}/.r.new-2-live`);
    const live = await acquireLock(`${dir}/.r.new-2-live`, { command: "train" });
    try {
      const run = await createRunFolder(dir, "r", {
        fill: (f) => f.writeJson("config.json", { p: 7 }),
      });
      assert.deepEqual(await listDir(dir), [".r.new-2-live", "r"]);
      assert.deepEqual(await listDir(run.path), ["checkpoints", "config.json", "run.lock"]);
      // The folder is named only once filled: a failing fill leaves nothing under the name.
      await assert.rejects(
        createRunFolder(dir, "s", {
          fill: () => Promise.reject(new RangeError("d_mlp must be a positive integer")),
        }),
        /^RangeError: d_mlp must be a positive integer$/,
      );
      assert.deepEqual(await listDir(dir), [".r.new-2-live", "r"]);
    } finally {
      live.release();
    }
  });
});

Deno.test("lock: --force does not remove a run whose lock is held", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", { lock: "train" });
    try {
      await assert.rejects(
        createRunFolder(dir, "r", { force: true }),
        new RegExp(`${run.path} is in use: run\\.lock is held by process ${Deno.pid}`),
      );
      assert.deepEqual(await listDir(dir), ["r"]);
    } finally {
      run.release();
    }
    const again = await createRunFolder(dir, "r", { force: true, lock: "train" });
    assert.equal((await lockHolder(again.path))?.pid, Deno.pid);
    again.release();
  });
});
