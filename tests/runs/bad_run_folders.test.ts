// Every bad run folder gets one line naming the file and the field, from each reader: `--resume`
// (resumeRun), `analyze` (analyzeRun) and the server's inspect endpoint, all through the one
// check in engine/runs. A table of corruptions (each file; missing, wrong type, out of range,
// truncated, a header that lies about sizes, optimizer state of the wrong length, links leading
// outside) is applied to copies of one tiny trained run. The command line prints them as usage
// errors (exit 2).
import * as assert from "node:assert/strict";
import { analyzeRun } from "../../engine/analysis/analyze_run.ts";
import { paramLayout } from "../../engine/model/params.ts";
import {
  encodeSafetensors,
  readSafetensors,
  type RunConfig,
  RunInputError,
} from "../../engine/runs/mod.ts";
import { startServer } from "../../engine/server/mod.ts";
import { Tensor } from "../../engine/tensor/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { resumeRun, startRun } from "../../engine/train/run.ts";
import { listDir, mechlab, withTempDir } from "../helpers.ts";

/** p = 7, width 8, 20 steps: checkpoints at 0, 10, 20 and final (20). */
const CONFIG = resolveConfig("smoke", {
  task: { p: 7, frac_train: 0.5 },
  model: { d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16 },
  train: { steps: 20, eval_every: 5, checkpoint_every: 10 },
}, "test");
const P = paramLayout(CONFIG.model).size;

/** Who reads the folder: `--resume`, `analyze`, the server's inspect of step 20. */
type Reader = "resume" | "analyze" | "server";

interface Case {
  what: string;
  /** Breaks the copy of the run at `run`; `outside` is a folder beside the runs folder. */
  apply: (run: string, outside: string) => Promise<void>;
  /** The message each reader must give (a reader not named here is not affected). */
  expect: Partial<Record<Reader, RegExp>>;
  /** The server's status: 404 when the run cannot be opened (default), 422 for a bad checkpoint. */
  serverStatus?: number;
}

const ck = (run: string, file: string) => `${run}/checkpoints/${file}`;

/** Rewrites a JSON file through `edit`. */
// deno-lint-ignore no-explicit-any
function editJson(file: string, edit: (c: Record<string, any>) => void) {
  return async (run: string) => {
    const c = JSON.parse(await Deno.readTextFile(`${run}/${file}`));
    edit(c);
    await Deno.writeTextFile(`${run}/${file}`, JSON.stringify(c));
  };
}

/** Cuts the last `n` bytes off a file. */
function truncate(path: (run: string) => string, n: number) {
  return async (run: string) => {
    const bytes = await Deno.readFile(path(run));
    await Deno.writeFile(path(run), bytes.subarray(0, bytes.length - n));
  };
}

/** Rewrites a safetensors file's header JSON, keeping its data as it is. */
// deno-lint-ignore no-explicit-any
function editHeader(path: (run: string) => string, edit: (h: Record<string, any>) => void) {
  return async (run: string) => {
    const bytes = await Deno.readFile(path(run));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    edit(header);
    const text = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + text.length + bytes.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(bytes.subarray(8 + n), 8 + text.length);
    await Deno.writeFile(path(run), out);
  };
}

/** Replaces the optimizer state with these tensors (step 20). */
function optimizer(tensors: Record<string, Tensor>, step = "20") {
  return (run: string) =>
    Deno.writeFile(ck(run, "optimizer.safetensors"), encodeSafetensors(tensors, { step }));
}

const CONFIG_FILE = /\/config\.json: /.source;
const f32 = (n: number) => new Tensor(new Float32Array(n), [n]);
const state = new Tensor(new Int32Array(8), [8]);

const CASES: Case[] = [
  {
    what: "config.json missing",
    apply: (run) => Deno.remove(`${run}/config.json`),
    expect: { resume: /has no config\.json/, analyze: /has no config\.json/ },
  },
  {
    what: "config.json {}",
    apply: (run) => Deno.writeTextFile(`${run}/config.json`, "{}"),
    expect: all(`${CONFIG_FILE}mechlab_version must be a string \\(got undefined\\)`),
  },
  {
    what: "config.json not JSON",
    apply: (run) => Deno.writeTextFile(`${run}/config.json`, '{"task": '),
    // The server lists no run whose config.json is not a JSON object (its index's contract).
    expect: { resume: /\/config\.json: invalid JSON/, analyze: /\/config\.json: invalid JSON/ },
  },
  {
    what: "model.d_vocab missing",
    apply: editJson("config.json", (c) => delete c.model.d_vocab),
    expect: all(`${CONFIG_FILE}model\\.d_vocab must be a finite number \\(got undefined\\)`),
  },
  {
    what: "model.d_vocab a string",
    apply: editJson("config.json", (c) => (c.model.d_vocab = "8")),
    expect: all(`${CONFIG_FILE}model\\.d_vocab must be a finite number \\(got "8"\\)`),
  },
  {
    what: "model.d_vocab not the task's",
    apply: editJson("config.json", (c) => (c.model.d_vocab = 99)),
    expect: all(`${CONFIG_FILE}model\\.d_vocab is 99 but the task needs 8`),
  },
  {
    what: "model.n_heads 0",
    apply: editJson("config.json", (c) => (c.model.n_heads = 0)),
    expect: all(`${CONFIG_FILE}model\\.n_heads must be a positive integer, got 0`),
  },
  {
    what: "model.eps 0",
    apply: editJson("config.json", (c) => (c.model.eps = 0)),
    expect: all(`${CONFIG_FILE}model\\.eps must be a positive number, got 0`),
  },
  {
    what: "model not an object",
    apply: editJson("config.json", (c) => (c.model = [1])),
    expect: all(`${CONFIG_FILE}model must be an object \\(got \\[1\\]\\)`),
  },
  {
    what: "train.steps negative",
    apply: editJson("config.json", (c) => (c.train.steps = -5)),
    expect: all(`${CONFIG_FILE}train\\.steps must be an integer in \\[1, \\d+\\], got -5`),
  },
  {
    what: "train.schedule a number",
    apply: editJson("config.json", (c) => (c.train.schedule = 1)),
    expect: all(`${CONFIG_FILE}train\\.schedule must be a string \\(got 1\\)`),
  },
  {
    what: "task.task unknown",
    apply: editJson("config.json", (c) => (c.task.task = "sort")),
    expect: all(`${CONFIG_FILE}task\\.task must be one of modular, oocl\\b.* \\(got "sort"\\)`),
  },
  {
    what: "task.frac_train out of range",
    apply: editJson("config.json", (c) => (c.task.frac_train = 2)),
    expect: all(`${CONFIG_FILE}task\\.frac_train 2: must be strictly between 0 and 1`),
  },
  {
    what: "metrics.jsonl: a step that is not a number",
    apply: (run) => Deno.writeTextFile(`${run}/metrics.jsonl`, '{"step":"5"}\n', { append: true }),
    expect: { resume: /\/metrics\.jsonl:6: step must be a number or null \(got "5"\)/ },
  },
  {
    what: "metrics.jsonl: a line without a step",
    apply: (run) => Deno.writeTextFile(`${run}/metrics.jsonl`, '{"loss":1}\n', { append: true }),
    expect: { resume: /\/metrics\.jsonl:6: step must be a whole number \(got undefined\)/ },
  },
  {
    what: "checkpoint truncated",
    serverStatus: 422,
    apply: async (run) => {
      await truncate((r) => ck(r, "step_000020.safetensors"), 100)(run);
      await truncate((r) => ck(r, "final.safetensors"), 100)(run); // resume falls back on neither
    },
    expect: {
      resume: /step_000020\.safetensors: corrupt safetensors: tensor .* run past the \d+-byte data/,
      analyze: /step_000020\.safetensors: corrupt safetensors: /,
      server: /step_000020\.safetensors: corrupt safetensors: /,
    },
  },
  {
    what: "checkpoint header lies about a tensor's size",
    serverStatus: 422,
    apply: async (run) => {
      for (const f of ["step_000020.safetensors", "final.safetensors"]) {
        await editHeader((r) => ck(r, f), (h) => (h["embed.W_E"].shape = [8, 7]))(run);
      }
    },
    expect: {
      resume:
        /step_000020\.safetensors: corrupt safetensors: tensor "embed\.W_E": shape \[8,7\] of F32 needs 224 bytes, data_offsets span 256/,
      analyze: /step_000020\.safetensors: corrupt safetensors: tensor "embed\.W_E": shape/,
      server: /step_000020\.safetensors: corrupt safetensors: tensor "embed\.W_E": shape/,
    },
  },
  {
    what: "checkpoint step not a number",
    apply: async (run) => {
      for (const f of ["step_000020.safetensors", "final.safetensors"]) {
        await editHeader((r) => ck(r, f), (h) => (h.__metadata__.step = "twenty"))(run);
      }
    },
    expect: {
      resume: /step_000020\.safetensors: __metadata__ step must be a whole number \(got "twenty"\)/,
      analyze: /final\.safetensors: __metadata__ step must be a whole number \(got "twenty"\)/,
      server: /final\.safetensors: __metadata__ step must be a whole number \(got "twenty"\)/,
    },
  },
  {
    what: "optimizer state missing",
    apply: (run) => Deno.remove(ck(run, "optimizer.safetensors")),
    expect: { resume: /optimizer\.safetensors not found: the run never reached a checkpoint/ },
  },
  {
    what: "optimizer state truncated",
    apply: truncate((r) => ck(r, "optimizer.safetensors"), 10),
    expect: { resume: /optimizer\.safetensors: corrupt safetensors: / },
  },
  {
    what: "optimizer m of the wrong length",
    apply: optimizer({ m: f32(3), v: f32(P), state }),
    expect: {
      resume: new RegExp(`optimizer\\.safetensors: m must be f32 \\[${P}\\] \\(got f32 \\[3\\]\\)`),
    },
  },
  {
    what: "optimizer state words as floats",
    apply: optimizer({ m: f32(P), v: f32(P), state: f32(8) }),
    expect: { resume: /optimizer\.safetensors: state must be i32 \[8\] \(got f32 \[8\]\)/ },
  },
  {
    what: "optimizer without v",
    apply: optimizer({ m: f32(P), state }),
    expect: { resume: /optimizer\.safetensors lacks v$/ },
  },
  {
    what: "optimizer at a step with no checkpoint",
    apply: optimizer({ m: f32(P), v: f32(P), state }, "15"),
    expect: { resume: /step_000015\.safetensors not found/ },
  },
  {
    what: "checkpoints/ a link outside the run",
    apply: async (run, outside) => {
      await Deno.rename(`${run}/checkpoints`, `${outside}/checkpoints`);
      await Deno.symlink(`${outside}/checkpoints`, `${run}/checkpoints`);
    },
    expect: all(/: checkpoints is a link to \S+, outside the run folder/.source),
  },
  {
    what: "a checkpoint a link outside the run",
    apply: async (run, outside) => {
      await Deno.rename(ck(run, "step_000010.safetensors"), `${outside}/w.safetensors`);
      await Deno.symlink(`${outside}/w.safetensors`, ck(run, "step_000010.safetensors"));
    },
    expect: all(/: checkpoints\/step_000010\.safetensors is a link to \S+, outside the run/.source),
  },
  {
    what: "analysis/ a link outside the run",
    apply: (run, outside) => Deno.symlink(outside, `${run}/analysis`),
    expect: all(/: analysis is a link to \S+, outside the run folder/.source),
  },
  {
    what: "config.json a link that leads nowhere",
    apply: async (run, outside) => {
      await Deno.remove(`${run}/config.json`);
      await Deno.symlink(`${outside}/gone.json`, `${run}/config.json`);
    },
    expect: { resume: /has no config\.json|config\.json is a link that leads nowhere/ },
  },
];

function all(source: string): Record<Reader, RegExp> {
  const re = new RegExp(source);
  return { resume: re, analyze: re, server: re };
}

/** Copies a folder, links as links. */
async function copy(from: string, to: string): Promise<void> {
  const { code } = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  assert.equal(code, 0);
}

/** One line, a RunInputError, matching `re`. */
function inputError(re: RegExp, what: string) {
  return (e: unknown) => {
    assert.ok(e instanceof RunInputError, `${what}: ${e}`);
    assert.match(e.message, re, what);
    assert.ok(!e.message.includes("\n"), `${what}: one line`);
    return true;
  };
}

Deno.test({
  name: "bad run folders: one line naming the file and field, from resume, analyze and the server",
  fn: () =>
    withTempDir(async (dir) => {
      const runs = `${dir}/runs`;
      const base = await startRun(CONFIG, { parent: `${dir}/base`, name: "r", force: false }, {
        device: "cpu",
      });
      await Deno.mkdir(runs);
      const names = CASES.map((_, i) => `case${i}`);
      for (const [i, c] of CASES.entries()) {
        const outside = `${dir}/outside${i}`;
        await Deno.mkdir(outside);
        await copy(base.path, `${runs}/${names[i]}`);
        await c.apply(`${runs}/${names[i]}`, outside);
      }
      for (const [i, c] of CASES.entries()) {
        const run = `${runs}/${names[i]}`;
        const before = await Deno.readFile(`${run}/metrics.jsonl`).catch(() => undefined);
        if (c.expect.resume) {
          await assert.rejects(
            resumeRun(run, { device: "cpu" }),
            inputError(c.expect.resume, `resume, ${c.what}`),
          );
          const after = await Deno.readFile(`${run}/metrics.jsonl`).catch(() => undefined);
          assert.deepEqual(after, before, `resume, ${c.what}: the run's data is untouched`);
        }
        if (c.expect.analyze) {
          await assert.rejects(
            analyzeRun(run, { device: "cpu" }),
            inputError(c.expect.analyze, `analyze, ${c.what}`),
          );
        }
        // Nothing was read or written outside the run: the outside folder holds what it held.
        const outside = await listDir(`${dir}/outside${i}`);
        assert.ok(
          outside.every((n) => ["checkpoints", "w.safetensors"].includes(n)),
          `${c.what}: written outside: ${outside}`,
        );
      }
      const server = await startServer({ port: 0, runs });
      try {
        for (const [i, c] of CASES.entries()) {
          if (!c.expect.server) continue;
          const res = await fetch(
            `http://127.0.0.1:${server.port}/api/runs/${names[i]}/inspect?step=20&example=0`,
            { headers: { authorization: `Bearer ${server.token}` } },
          );
          const body = await res.json();
          assert.equal(res.status, c.serverStatus ?? 404, `server, ${c.what}: ${body.error}`);
          assert.match(body.error, c.expect.server, `server, ${c.what}`);
          assert.ok(!body.error.includes("\n"));
        }
      } finally {
        await server.close();
      }
      // The whole run still reads: the table's runs differ from it only by their corruption.
      const config: RunConfig = await base.readJson("config.json");
      assert.deepEqual(config, CONFIG);
      assert.equal((await readSafetensors(base.finalPath())).metadata.step, "20");
    }),
});

Deno.test("bad run folders: the command line prints them as usage errors (exit 2, one line)", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/r/checkpoints`, { recursive: true });
    await Deno.writeTextFile(`${dir}/r/config.json`, "{}");
    for (const args of [["train", "--resume"], ["analyze", "--run"]]) {
      const { code, err } = await mechlab(...args, `${dir}/r`, "--device", "cpu");
      assert.equal(code, 2, err);
      // Deno's own type-checking lines are not mechlab's (and no GPU probe warns: issue 11, item 6).
      const lines = err.split("\n").filter((l) => l !== "" && !/^Check /.test(l));
      assert.deepEqual(lines, [
        `mechlab: ${dir}/r/config.json: mechlab_version must be a string (got undefined)`,
      ]);
    }
  });
});
