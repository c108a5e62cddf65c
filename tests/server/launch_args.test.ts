// deno-lint-ignore-file no-explicit-any -- configs indexed by section name
// From a POST body to `mechlab train`'s command line: the body's checks, every config field as a
// flag `train --help` lists, the flags resolving back to the same config, and the command line
// under `deno run` and when compiled.
import * as assert from "node:assert/strict";
import { mechlab } from "../helpers.ts";
import type { LaunchRequest } from "../../engine/server/api_types.ts";
import { launchFlags, parseLaunchBody } from "../../engine/server/launch_args.ts";
import { isCompiled, trainCommand } from "../../engine/server/launcher.ts";
import { defaultRunName, resolveConfig } from "../../engine/train/presets.ts";

const REQUESTS: LaunchRequest[] = [
  { preset: "smoke", overrides: {} },
  { preset: "grokking", overrides: { model: { normalization_type: "LN", attn_only: true } } },
  { preset: "oocl", overrides: { task: { p: 11, symmetric_holdout: true } } },
  { preset: "smoke", overrides: { task: { task: "oocl", p: 7 }, train: { schedule: "cosine" } } },
  { preset: "induction", overrides: { task: { n_tokens: 10, seq_len: 8, n_seqs: 100 } } },
  {
    preset: "smoke",
    overrides: {
      model: { positional_embedding_type: "shortformer" },
      train: { grokfast_alpha: 0.9, grokfast_lambda: 2 },
    },
  },
];

Deno.test("launch flags: each is a flag of train, and they resolve to the same config", async () => {
  const { out } = await mechlab("train", "--help");
  const known = new Set([...out.matchAll(/^ {2}(--[a-z0-9-]+) /gm)].map((m) => m[1]));
  assert.ok(known.size > 30, `parsed ${known.size} flags from train --help`);
  for (const request of REQUESTS) {
    const { config, flags } = launchFlags(request, "0.1.0");
    assert.deepEqual(config, resolveConfig(request.preset, request.overrides, "0.1.0"));
    for (const flag of flags) assert.ok(known.has(flag.split("=")[0]!), `${flag} is a train flag`);
    // Read back as train reads them: --name=value, a bare flag for true, none for null.
    const back: Record<string, Record<string, unknown>> = { task: {}, model: {}, train: {} };
    for (const flag of flags.slice(1)) {
      const [name, value] = flag.slice(2).split("=") as [string, string | undefined];
      const key = name.replaceAll("-", "_");
      const section = ["task", "model", "train"].find((s) => key in config[s as "task"])!;
      assert.ok(section, flag);
      back[section]![key] = value === undefined
        ? true
        : value === "none"
        ? null
        : typeof (config as any)[section][key] === "number"
        ? Number(value)
        : value;
    }
    assert.deepEqual(resolveConfig(request.preset, back, "0.1.0"), config);
  }
  const smoke = launchFlags({ preset: "smoke", overrides: {} }, "0.1.0").flags;
  assert.equal(smoke[0], "--preset=smoke");
  for (const f of ["--p=23", "--frac-train=0.5", "--d-head=16", "--normalization-type=none"]) {
    assert.ok(smoke.includes(f), f);
  }
  assert.ok(!smoke.some((f) => f.startsWith("--attn-only")), "false is no flag");
  const grokfast = launchFlags(REQUESTS.at(-1)!, "0.1.0").flags;
  for (
    const f of ["positional-embedding-type=shortformer", "grokfast-alpha=0.9", "grokfast-lambda=2"]
  ) {
    assert.ok(grokfast.includes(`--${f}`), f);
  }
  const oocl = launchFlags({ preset: "oocl", overrides: { task: { p: 11 } } }, "0.1.0").flags;
  assert.ok(oocl.includes("--attn-only") && oocl.includes("--normalization-type=LN"));
});

Deno.test("launch flags: refused bodies name the field in one line", () => {
  const cases: [unknown, RegExp][] = [
    [null, /^the body must be a JSON object$/],
    [{ preset: 3 }, /^preset: not a string/],
    [{ preset: "smoke", overrides: [] }, /^overrides: not an object$/],
    [{ preset: "smoke", overrides: { optim: {} } }, /^overrides\.optim: unknown section/],
    [{ preset: "smoke", overrides: { task: { k1: 2 } } }, /^overrides\.task\.k1: unknown field/],
    [
      { preset: "oocl", overrides: { task: { frac_train: 0.5 } } },
      /^overrides\.task\.frac_train: unknown/,
    ],
    [{ preset: "smoke", overrides: { task: { task: "sort" } } }, /^overrides\.task\.task "sort"/],
    [{ preset: "smoke", overrides: { model: { attn_only: 1 } } }, /expected a boolean$/],
    [{ preset: "smoke", overrides: { model: { normalization_type: 0 } } }, /expected a string$/],
    [{ preset: "smoke", overrides: { model: { n_ctx: 4 } } }, /set by the task/],
    [{ preset: "smoke", overrides: { train: { eps: 1e-9 } } }, /no flag/],
    [{ preset: "smoke", name: 7 }, /^name: not a string$/],
    [{ preset: "smoke", name: "a b" }, /^run name "a b"/],
  ];
  for (const [body, pattern] of cases) {
    assert.throws(() => parseLaunchBody(body), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, pattern, JSON.stringify(body));
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  // Values resolveConfig refuses, and a false that only its absence could say.
  const refused: [LaunchRequest, RegExp][] = [
    [{ preset: "smoke", overrides: { train: { steps: 0 } } }, /steps must be an integer in \[1, /],
    // The GPU's step counter is a u32: more steps would fail only in the child's shader.
    [
      { preset: "smoke", overrides: { train: { steps: 5e9 } } },
      /steps must be an integer in \[1, 4294967295\], got 5000000000/,
    ],
    [{ preset: "smoke", overrides: { model: { act_fn: "tanh" as "relu" } } }, /act_fn must be/],
    // The command line's checks, from the same validators.
    [
      { preset: "smoke", overrides: { model: { trainable_biases: "foo" as "mlp" } } },
      /^RangeError: trainable_biases must be all or mlp, got foo$/,
    ],
    [
      { preset: "smoke", overrides: { model: { n_heads: 0 } } },
      /^RangeError: n_heads must be a positive/,
    ],
    [
      { preset: "smoke", overrides: { model: { d_mlp: 5e6 } }, device: "cpu" },
      /^RangeError: the run needs about \d+ GB of memory .*d_mlp 5000000/,
    ],
    [
      { preset: "oocl", overrides: { model: { attn_only: false } } },
      /train has no flag to undo preset oocl's true/,
    ],
  ];
  for (const [request, pattern] of refused) {
    assert.throws(() => launchFlags(request, "0.1.0"), pattern);
  }
});

Deno.test("launch flags: default names are the task's, as train gives them", () => {
  assert.equal(defaultRunName(resolveConfig("smoke", {}, "0.1.0")), "modular_add_23");
  assert.equal(
    defaultRunName(resolveConfig("oocl", { task: { p: 11, k2: 0 } }, "0.1.0")),
    "oocl_ssq_11_0.6_0.6_1_0_1",
  );
});

Deno.test("launch command: deno run main.ts under deno, the executable itself when compiled", () => {
  assert.equal(isCompiled(), false);
  const self = {
    execPath: "/usr/bin/deno",
    standalone: false,
    moduleUrl: "file:///w/engine/server/launcher.ts",
    mainPath: "/w/main.ts",
  };
  assert.deepEqual(trainCommand(["--p=7"], self), {
    program: "/usr/bin/deno",
    args: ["run", "-A", "/w/main.ts", "train", "--p=7"],
  });
  const compiled = [
    { ...self, execPath: "/opt/mechlab", standalone: true },
    {
      ...self,
      execPath: "/opt/mechlab",
      moduleUrl: "file:///tmp/deno-compile-mechlab/engine/server/launcher.ts",
    },
    {
      ...self,
      execPath: "C:\\mechlab.exe",
      moduleUrl: "file:///C:/Temp/deno-compile-mechlab.exe/engine/server/launcher.ts",
    },
  ];
  for (const c of compiled) {
    assert.deepEqual(trainCommand(["--p=7"], c), { program: c.execPath, args: ["train", "--p=7"] });
  }
  // Under deno test, the real one starts main.ts next to this repository's engine/.
  const real = trainCommand([]);
  assert.equal(real.program, Deno.execPath());
  assert.equal(real.args[2], new URL("../../main.ts", import.meta.url).pathname);
});
