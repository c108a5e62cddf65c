// Run folders: creation and --force, bad names and parents, atomic JSON, the metrics log with a
// torn last line, truncation for --resume, checkpoint naming and listing.
import * as assert from "node:assert/strict";
import {
  createRunFolder,
  openRunFolder,
  readSafetensors,
  RunFolder,
  validateRunName,
  writeSafetensorsAtomic,
} from "../../engine/runs/mod.ts";
import { tensor } from "../../engine/tensor/mod.ts";
import { listDir, withTempDir } from "../helpers.ts";

function oneLine(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof Error, String(e));
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), `one line: ${JSON.stringify(e.message)}`);
    return true;
  };
}

Deno.test("run folder: run names", () => {
  for (const ok of ["grok", "grok_p113-seed.0", "A1", "a.b", "x".repeat(200)]) validateRunName(ok);
  const bad: [string, RegExp][] = [
    ["", /^run name is empty$/],
    ["..", /^run name "\.\.": must not contain "\.\."$/],
    ["a..b", /must not contain "\.\."/],
    [".", /^run name "\.": "\." is the runs folder itself$/],
    ["a/b", /^run name "a\/b": use only letters, digits, "\.", "_" and "-" \(found "\/"\)$/],
    ["/abs", /\(found "\/"\)$/],
    ["a\\b", /\(found "\\\\"\)$/],
    ["a\0b", /^run name "a\\u0000b": .*\(found "\\u0000"\)$/],
    ["a b", /\(found " "\)$/],
    ["a\nb", /^run name "a\\nb": .*\(found "\\n"\)$/],
    ["naïve", /\(found "ï"\)$/],
    ["x".repeat(201), /^run name "x{40}…": 201 characters, more than 200$/],
  ];
  for (const [name, pattern] of bad) {
    assert.throws(() => validateRunName(name), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      return oneLine(pattern)(e);
    }, JSON.stringify(name));
  }
});

Deno.test("run folder: create, exists, --force", async () => {
  await withTempDir(async (dir) => {
    const parent = `${dir}/deep/runs`; // made if missing
    const run = await createRunFolder(parent, "grok", {});
    assert.equal(run.path, `${parent}/grok`);
    assert.deepEqual(await listDir(run.path), ["checkpoints", "run.lock"]);
    await run.writeJson("config.json", { p: 113 });
    await assert.rejects(
      createRunFolder(parent, "grok", {}),
      oneLine(new RegExp(`^run folder ${parent}/grok exists; pass --force to overwrite$`)),
    );
    await assert.rejects(createRunFolder(parent, "grok", { force: false }), /exists/);
    assert.deepEqual(await run.readJson("config.json"), { p: 113 }); // untouched by the refusal
    const again = await createRunFolder(parent, "grok", { force: true });
    assert.deepEqual(await listDir(again.path), ["checkpoints", "run.lock"]); // old contents gone
    assert.deepEqual(await listDir(parent), ["grok"]); // no probe file left behind
    // The name is checked before anything is made.
    await assert.rejects(createRunFolder(parent, "../x", {}), /run name "\.\.\/x"/);
    // A plain file where the run folder would go also counts as existing.
    await Deno.writeTextFile(`${parent}/file`, "x");
    await assert.rejects(createRunFolder(parent, "file", {}), /run folder .*\/file exists/);
    assert.equal((await createRunFolder(parent, "file", { force: true })).path, `${parent}/file`);
  });
});

Deno.test("run folder: a parent that cannot be made or written is named", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/plain`, "not a folder");
    for (const parent of [`${dir}/plain`, `${dir}/plain/runs`]) {
      await assert.rejects(
        createRunFolder(parent, "grok", {}),
        oneLine(new RegExp(`^cannot create runs folder ${parent}: `)),
      );
    }
    assert.equal(await Deno.readTextFile(`${dir}/plain`), "not a folder");
  });
});

Deno.test("run folder: open for --resume", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(openRunFolder(`${dir}/nope`), oneLine(/^run folder .*\/nope not found$/));
    await Deno.writeTextFile(`${dir}/f`, "");
    await assert.rejects(openRunFolder(`${dir}/f`), oneLine(/^run folder .*\/f is not a folder$/));
    const run = await createRunFolder(dir, "r", {});
    await assert.rejects(openRunFolder(run.path), oneLine(/^run folder .*\/r has no config\.json/));
    await run.writeJson("config.json", { n_layers: 1 });
    const opened = await openRunFolder(run.path);
    assert.equal(opened.path, run.path);
    assert.deepEqual(await opened.readJson("config.json"), { n_layers: 1 });
  });
});

Deno.test("run folder: JSON files are pretty, atomic, and read back", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", {});
    const split = { train: [0, 3, 5], test: [1, 2, 4] };
    await run.writeJson("split.json", split);
    assert.equal(
      await Deno.readTextFile(`${run.path}/split.json`),
      '{\n  "train": [\n    0,\n    3,\n    5\n  ],\n  "test": [\n    1,\n    2,\n    4\n  ]\n}\n',
    );
    await run.writeJson("split.json", { train: [] });
    assert.deepEqual(await run.readJson("split.json"), { train: [] });
    assert.deepEqual(await listDir(run.path), ["checkpoints", "run.lock", "split.json"]); // no temp file
    await assert.rejects(run.readJson("gone.json"), oneLine(/^.*\/r\/gone\.json not found$/));
    await Deno.writeTextFile(`${run.path}/bad.json`, "{\n");
    await assert.rejects(run.readJson("bad.json"), oneLine(/bad\.json: invalid JSON \(/));
    assert.throws(() => run.file("../escape.json"), /must be a plain file name/);
    await assert.rejects(run.writeJson("a/b.json", {}), /must be a plain file name/);
  });
});

Deno.test("run folder: metrics are appended, flushed, and a torn last line is skipped", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", {});
    assert.deepEqual(await run.readMetrics(), []); // no file yet
    await run.appendMetrics({ step: 0, train_loss: 4.75, test_acc: 0.01 });
    // On disk already, through a separate handle, one JSON object per line.
    assert.equal(
      await Deno.readTextFile(run.metricsPath),
      '{"step":0,"train_loss":4.75,"test_acc":0.01}\n',
    );
    await run.appendMetrics({ step: 10, train_loss: NaN, grad_norm: Infinity });
    assert.deepEqual(await run.readMetrics(), [
      { step: 0, train_loss: 4.75, test_acc: 0.01 },
      { step: 10, train_loss: NaN, grad_norm: NaN }, // JSON has no NaN: null, read back as NaN
    ]);
    // A crash mid-write: an unterminated last line, even one that happens to parse.
    await Deno.writeTextFile(run.metricsPath, '{"step":20,"train_lo', { append: true });
    assert.equal((await run.readMetrics()).length, 2);
    await Deno.writeTextFile(run.metricsPath, 'ss":1}', { append: true });
    assert.equal((await run.readMetrics()).length, 2);
    // The next append cuts the torn line off rather than gluing onto it.
    await run.appendMetrics({ step: 20, train_loss: 1.5 });
    assert.equal(
      await Deno.readTextFile(run.metricsPath),
      '{"step":0,"train_loss":4.75,"test_acc":0.01}\n' +
        '{"step":10,"train_loss":null,"grad_norm":null}\n' +
        '{"step":20,"train_loss":1.5}\n',
    );
    // A bad line in the middle is corruption, named with its line number.
    await Deno.writeTextFile(run.metricsPath, '{"step":0}\nnot json\n{"step":1}\n');
    await assert.rejects(run.readMetrics(), oneLine(/metrics\.jsonl:2: invalid JSON/));
    await assert.rejects(
      run.appendMetrics({ step: 1, loss: "2" as unknown as number }),
      /metrics record "loss": string, not a number/,
    );
  });
});

Deno.test("run folder: truncateMetricsAfter keeps steps up to the resumed one", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", {});
    await run.truncateMetricsAfter(5); // no file: nothing to do, nothing made
    assert.deepEqual(await listDir(run.path), ["checkpoints", "run.lock"]);
    for (const step of [0, 100, 200, 300]) await run.appendMetrics({ step, loss: step / 100 });
    await Deno.writeTextFile(run.metricsPath, '{"step":400,"lo', { append: true }); // torn
    await run.truncateMetricsAfter(200);
    assert.equal(
      await Deno.readTextFile(run.metricsPath),
      '{"step":0,"loss":0}\n{"step":100,"loss":1}\n{"step":200,"loss":2}\n',
    );
    assert.deepEqual(await listDir(run.path), ["checkpoints", "metrics.jsonl", "run.lock"]); // no temp file
    await run.appendMetrics({ step: 300, loss: 2.5 });
    assert.deepEqual((await run.readMetrics()).map((r) => r.step), [0, 100, 200, 300]);
    await run.truncateMetricsAfter(0);
    assert.deepEqual(await run.readMetrics(), [{ step: 0, loss: 0 }]);
  });
});

Deno.test("run folder: checkpoint names and listing", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", {});
    const ck = `${dir}/r/checkpoints`;
    assert.equal(run.checkpointPath(0), `${ck}/step_000000.safetensors`);
    assert.equal(run.checkpointPath(1500), `${ck}/step_001500.safetensors`);
    assert.equal(run.checkpointPath(999999), `${ck}/step_999999.safetensors`);
    assert.equal(run.checkpointPath(1234567), `${ck}/step_1234567.safetensors`);
    assert.equal(run.finalPath(), `${ck}/final.safetensors`);
    for (const bad of [-1, 1.5, NaN]) {
      assert.throws(() => run.checkpointPath(bad), oneLine(/must be a non-negative integer/));
    }
    assert.deepEqual(await run.listCheckpoints(), []);
    const w = { "embed.W_E": tensor([1, 2], [1, 2], "f32") };
    for (const step of [1234567, 20, 0, 300]) {
      await writeSafetensorsAtomic(run.checkpointPath(step), w, { step: String(step) });
    }
    await writeSafetensorsAtomic(run.finalPath(), w);
    // Not checkpoints: a non-canonical spelling, other names, a folder.
    await Deno.writeFile(`${ck}/step_0000020.safetensors`, new Uint8Array());
    await Deno.writeFile(`${ck}/step_20.safetensors`, new Uint8Array());
    await Deno.writeFile(`${ck}/step_000030.safetensors.tmp`, new Uint8Array());
    await Deno.mkdir(`${ck}/step_000040.safetensors`);
    const listed = await run.listCheckpoints();
    assert.deepEqual(listed.map((c) => c.step), [0, 20, 300, 1234567]);
    assert.deepEqual(
      listed.map((c) => c.path),
      [0, 20, 300, 1234567].map((s) => run.checkpointPath(s)),
    );
    assert.equal((await readSafetensors(listed[2]!.path)).metadata.step, "300");
    // A RunFolder on a folder without checkpoints/ lists none.
    assert.deepEqual(await new RunFolder(`${dir}/elsewhere`).listCheckpoints(), []);
  });
});

Deno.test("run folder: links are followed only while they stay inside the run", async () => {
  await withTempDir(async (dir) => {
    const run = await createRunFolder(dir, "r", { fill: (f) => f.writeJson("config.json", {}) });
    await Deno.mkdir(`${run.path}/old`);
    await Deno.symlink(`${run.path}/old`, `${run.path}/analysis`); // inside: fine
    await Deno.symlink("../config.json", `${run.path}/checkpoints/config_copy.json`);
    assert.equal((await openRunFolder(run.path)).path, run.path);
    await Deno.mkdir(`${dir}/r2`); // a sibling whose name starts like the run's
    await Deno.symlink(`${dir}/r2`, `${run.path}/old/out`);
    await assert.rejects(
      openRunFolder(run.path),
      oneLine(
        new RegExp(
          `^run folder ${run.path}: old/out is a link to ${await Deno.realPath(
            `${dir}/r2`,
          )}, outside`,
        ),
      ),
    );
  });
});
