// `mechlab sweep`'s grid: parsed by train's flag table, members and their names, and every bad grid
// refused in one line (a UsageError, exit code 2) before anything is written.
import * as assert from "node:assert/strict";
import { UsageError } from "../../cli/errors.ts";
import { sweep } from "../../cli/sweep.ts";
import { parseGrid } from "../../cli/sweep_grid.ts";
import { TRAIN_FLAGS } from "../../cli/train_flags.ts";
import { gridMembers, memberOverrides } from "../../engine/sweep/mod.ts";
import { listDir, withTempDir } from "../helpers.ts";

Deno.test("sweep --help: its own flags, then every flag of train with its default", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await sweep(["--help"]);
  } finally {
    console.log = log;
  }
  const out = lines.join("\n");
  for (
    const flag of [
      "grid",
      "seeds",
      "hold-data-seed",
      "max-members",
      "shard",
      "shard-count",
      "emit",
      "image",
      "claim",
    ]
  ) {
    assert.match(out, new RegExp(`^  --${flag} `, "m"), flag);
  }
  for (const flag of Object.keys(TRAIN_FLAGS)) {
    assert.match(out, new RegExp(`^  --${flag} `, "m"), flag);
  }
  assert.match(
    out,
    /--grokfast-lambda +Grokfast's gain on the EMA \(0: off; the paper's 2\) \(default 0\)/,
  );
  assert.match(out, /--max-members +refuse a grid of more members \(default 256\)/);
});

Deno.test("parseGrid: keys or flag names, values as train parses them", () => {
  const axes = parseGrid(
    "  weight_decay=0.3,1,3   frac-train=0.2,0.5 normalization_type=LN,none attn-only=true,false ",
  );
  assert.deepEqual(axes, [
    { flag: "weight-decay", key: "weight_decay", section: "train", values: [0.3, 1, 3] },
    { flag: "frac-train", key: "frac_train", section: "task", values: [0.2, 0.5] },
    {
      flag: "normalization-type",
      key: "normalization_type",
      section: "model",
      values: ["LN", null],
    },
    { flag: "attn-only", key: "attn_only", section: "model", values: [true, false] },
  ]);
});

Deno.test("gridMembers: every combination, the first axis slowest, seeds innermost", () => {
  const axes = parseGrid("weight_decay=0.3,1 frac_train=0.2,0.5");
  const one = gridMembers(axes, {
    seeds: 1,
    base: { seed: 7, data_seed: 598 },
    holdDataSeed: false,
  });
  assert.deepEqual(one.map((m) => m.values), [
    { weight_decay: 0.3, frac_train: 0.2 },
    { weight_decay: 0.3, frac_train: 0.5 },
    { weight_decay: 1, frac_train: 0.2 },
    { weight_decay: 1, frac_train: 0.5 },
  ]);
  assert.equal(one[3]!.name, "003_weight_decay-1_frac_train-0.5");
  const seeded = gridMembers(axes.slice(0, 1), {
    seeds: 3,
    base: { seed: 7, data_seed: 598 },
    holdDataSeed: false,
  });
  assert.deepEqual(seeded.map((m) => [m.values.seed, m.values.data_seed]), [
    [7, 598],
    [8, 599],
    [9, 600],
    [7, 598],
    [8, 599],
    [9, 600],
  ]);
  assert.equal(seeded[4]!.name, "004_weight_decay-1_seed-1");
  const held = gridMembers([], { seeds: 2, base: { seed: 0, data_seed: 5 }, holdDataSeed: true });
  assert.deepEqual(held.map((m) => m.values), [{ seed: 0, data_seed: 5 }, {
    seed: 1,
    data_seed: 5,
  }]);
  const common = { task: { p: 7 }, model: {}, train: { steps: 10, weight_decay: 9 } };
  assert.deepEqual(memberOverrides(common, axes, seeded[4]!.values), {
    task: { p: 7, data_seed: 599 },
    model: { seed: 8 },
    train: { steps: 10, weight_decay: 1 },
  });
  assert.deepEqual(common.train.weight_decay, 9, "the common overrides are not changed");
});

/** Each bad sweep command line and what its one line must say. */
const REFUSED: [string[], RegExp][] = [
  [["--grid", "wd=1,2"], /^--grid: unknown flag 'wd' \(a flag of train; see train --help\)$/],
  [["--grid", "weight_decay="], /^--grid: weight_decay has no values$/],
  [["--grid", "weight_decay=1,,2"], /^--grid: weight_decay has an empty value$/],
  [["--grid", "weight_decay"], /^--grid: 'weight_decay' is not NAME=VALUE/],
  [["--grid", "weight_decay=1,1"], /^--grid: weight_decay repeats a value$/],
  [["--grid", "lr=1 lr=2"], /^--grid: lr is given twice$/],
  [["--grid", "lr=0x10"], /^--grid: --lr 0x10: not a number$/],
  [["--grid", "steps=2.5"], /^--grid: --steps 2.5: not an integer$/],
  [["--grid", "out=a,b"], /^--grid: --out is the sweep's own, not an axis$/],
  [["--grid", "attn_only=yes"], /^--grid: attn_only yes: expected true or false$/],
  // Values train refuses for range, found when every member's config is resolved.
  [
    ["--grid", "frac_train=0.5,1.5"],
    /^member 001_frac_train-1.5: --frac-train 1.5: must be strictly between 0 and 1/,
  ],
  [
    ["--grid", "act_fn=relu,tanh"],
    /^member 001_act_fn-tanh: act_fn must be relu, gelu or gelu_new, got tanh$/,
  ],
  [
    ["--grid", "grokfast_alpha=0.5,1"],
    /^member 001_grokfast_alpha-1: grokfast_alpha must be in \[0, 1\), got 1$/,
  ],
  [["--grid", "weight_decay=1,2", "--lr", "-1"], /lr must be positive, got -1/],
  [
    ["--seeds", "300"],
    /^the grid has 300 members, more than --max-members 256; raise it if meant$/,
  ],
  [
    ["--grid", "p=5,7,11", "--max-members", "2"],
    /^the grid has 3 members, more than --max-members 2/,
  ],
  [["--seeds", "0"], /^--seeds 0: must be at least 1$/],
  [[], /^nothing to sweep: give --grid/],
  [
    ["--grid", "seed=1,2", "--seeds", "2"],
    /^--seeds sets seed and data_seed: drop them from --grid/,
  ],
  [["--grid", "lr=1", "--wd", "3"], /^unknown flag '--wd'; see --help$/],
  [["--grid", "lr=1", "--force"], /^--force: a sweep is continued, never overwritten/],
  [["--grid", "lr=1", "--shard", "4/4"], /^--shard 4\/4: shard 4 of 4 \(expected I < N, N >= 1\)$/],
  [
    ["--grid", "lr=1", "--emit", "pbs", "--shard-count", "2"],
    /^--emit pbs: expected slurm or k8s$/,
  ],
  [
    ["--grid", "lr=1", "--emit", "slurm"],
    /^--emit slurm: give the number of shards as --shard-count N/,
  ],
];

Deno.test("sweep: every bad grid is one line naming it, before anything is written", async () => {
  for (const [args, message] of REFUSED) {
    await withTempDir(async (parent) => {
      const all = ["--preset", "smoke", "--device", "cpu", "--out", parent, ...args];
      const err = await sweep(all).then(() => undefined, (e: Error) => e);
      const what = all.join(" ");
      assert.ok(err instanceof UsageError, `${what}: ${err}`);
      assert.doesNotMatch(err.message, /\n/, what);
      assert.match(err.message, message, what);
      assert.deepEqual(await listDir(parent), [], `${what}: nothing written`);
    });
  }
  const noPreset = await sweep(["--grid", "lr=1"]).then(() => undefined, (e: Error) => e);
  assert.equal(noPreset?.message, "--preset: a sweep needs one (see train --help)");
});

Deno.test("sweep --resume: only a sweep folder, and no flags but --device and the shard's", async () => {
  await withTempDir(async (dir) => {
    const err = (args: string[]) => sweep(args).then(() => undefined, (e: Error) => e);
    const notSweep = await err(["--resume", dir]);
    assert.ok(notSweep instanceof UsageError);
    assert.equal(notSweep.message, `${dir}/sweep.json not found: not a sweep folder`);
    const extra = await err(["--resume", dir, "--lr", "1", "--grid", "p=5"]);
    assert.equal(
      extra?.message,
      "--resume takes the plan from its sweep.json: drop --lr, --grid (only --device and the shard flags go with --resume)",
    );
    await Deno.writeTextFile(`${dir}/sweep.json`, '{"preset": 1}');
    const bad = await err(["--resume", dir, "--device", "cpu"]);
    assert.equal(
      bad?.message,
      `${dir}/sweep.json: not a sweep's file (preset, axes, members, status)`,
    );
  });
});
