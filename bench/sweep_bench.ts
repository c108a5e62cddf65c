/**
 * The sweep benchmark (issue 14, item 3): M members trained together against M solo runs, in the
 * same command. On the adapter at hand: the group (`trainGroupOnGpu`) against M `trainOnGpu` runs
 * in this process (pipelines already compiled for both), ms per step as the difference of runs of
 * `short` and `long` steps (after a first run that compiles), the dispatches per step counted the
 * same way, and the submits of the `long` runs (a chunk of steps is one submit). On the
 * CPU path: one `sweep --seeds M` process against M `train` processes, seconds in all (start-up,
 * data and training: what a person running M commands pays).
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { buildTask } from "../engine/data/mod.ts";
import { type Gpu, requestGpu } from "../engine/gpu/mod.ts";
import { initParams, paramLayout } from "../engine/model/params.ts";
import type { RunConfig } from "../engine/runs/mod.ts";
import { trainOnGpu } from "../engine/train/gpu_trainer.ts";
import { trainGroupOnGpu } from "../engine/train/group_trainer.ts";
import { groupCapacity } from "../engine/train/run.ts";
import { resolveConfig } from "../engine/train/presets.ts";
import { freshState } from "../engine/train/state.ts";
import { printTable } from "./timing.ts";

/** Member g's config: its own model and data seed, `steps` steps, evaluated at 0 and the end. */
function member(preset: string, g: number, steps: number): RunConfig {
  return resolveConfig(preset, {
    task: { data_seed: 598 + g },
    model: { seed: g + 1 },
    train: { steps, eval_every: steps, checkpoint_every: steps },
  }, meta.version);
}

/** Counts what `gpu` is asked to run: dispatches (repeats included) and queue submits. */
function countWork(gpu: Gpu) {
  const counts = { dispatches: 0, submits: 0 };
  const run = gpu.run.bind(gpu);
  gpu.run = (ds, options) => {
    counts.dispatches += ds.length * (options?.repeat ?? 1);
    return run(ds, options);
  };
  const queue = gpu.device.queue;
  const submit = queue.submit.bind(queue);
  queue.submit = (buffers) => {
    counts.submits++;
    return submit(buffers);
  };
  return counts;
}

const NOOP = { onMetrics: () => {}, onCheckpoint: () => {} };

/** M solo runs, then the same members as groups (of at most the capacity): ms, dispatches. */
async function runBoth(gpu: Gpu, preset: string, M: number, steps: number) {
  const configs = Array.from({ length: M }, (_, g) => member(preset, g, steps));
  const model = configs[0]!.model;
  const layout = paramLayout(model);
  const counts = countWork(gpu);
  const measure = async (fn: () => Promise<void>) => {
    const [d0, s0, t0] = [counts.dispatches, counts.submits, performance.now()];
    await fn();
    await gpu.sync();
    return {
      ms: performance.now() - t0,
      dispatches: counts.dispatches - d0,
      submits: counts.submits - s0,
    };
  };
  const tasks = configs.map((c) => buildTask(c.task));
  const solo = await measure(async () => {
    for (const [g, c] of configs.entries()) {
      const start = freshState(initParams(c.model, layout));
      const setup = { model, layout, train: c.train, task: tasks[g]! };
      await trainOnGpu(gpu, setup, start, { ...NOOP, shouldStop: () => false });
    }
  });
  const size = Math.min(M, groupCapacity(configs[0]!, tasks[0]!, gpu));
  const group = await measure(async () => {
    for (let i = 0; i < M; i += size) {
      const members = configs.slice(i, i + size).map((c, j) => ({
        task: tasks[i + j]!,
        train: c.train,
        state: freshState(initParams(c.model, layout)),
        hooks: NOOP,
      }));
      await trainGroupOnGpu(gpu, { model, layout }, members, { shouldStop: () => false });
    }
  });
  return { solo, group, groups: Math.ceil(M / size) };
}

/** The GPU rows: per M, ms per step and dispatches and submits per step, solo and grouped. */
async function benchGroupGpu(
  gpu: Gpu,
  preset: string,
  members: number[],
  short: number,
  long: number,
) {
  const rows = [[
    "M",
    "groups",
    "M solo ms/step",
    "group ms/step",
    "ratio",
    "disp/step solo",
    "group",
    "submits/run solo",
    "group",
  ]];
  for (const M of members) {
    // A first run compiles both paths' pipelines for these shapes: the figures leave that out.
    await runBoth(gpu, preset, M, short);
    const a = await runBoth(gpu, preset, M, short);
    const b = await runBoth(gpu, preset, M, long);
    const per = (k: "solo" | "group", f: "ms" | "dispatches" | "submits") =>
      (b[k][f] - a[k][f]) / (long - short);
    rows.push([
      String(M),
      String(b.groups),
      per("solo", "ms").toFixed(1),
      per("group", "ms").toFixed(1),
      (per("group", "ms") / per("solo", "ms")).toFixed(2),
      per("solo", "dispatches").toFixed(0),
      per("group", "dispatches").toFixed(0),
      String(b.solo.submits),
      String(b.group.submits),
    ]);
    // Each row as it comes: a long run that is cut short still leaves its first rows.
    console.log(rows.at(-1)!.join("  "));
  }
  printTable(rows);
}

/** Seconds of `deno run main.ts ARGS` to its end. */
async function timeCommand(args: string[]): Promise<number> {
  const t0 = performance.now();
  const main = new URL("../main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`mechlab ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return (performance.now() - t0) / 1000;
}

/** The CPU rows: M `train` processes against one `sweep --seeds M`, the smoke preset. */
async function benchGroupCpu(members: number[], steps: number) {
  const rows = [["M", "M train processes s", "one sweep s", "ratio"]];
  for (const M of members) {
    const dir = await Deno.makeTempDir();
    try {
      const common = [
        "--preset",
        "smoke",
        "--device",
        "cpu",
        "--steps",
        String(steps),
        "--out",
        dir,
      ];
      const flags = [...common, "--eval-every", String(steps), "--checkpoint-every", String(steps)];
      let solo = 0;
      for (let g = 0; g < M; g++) {
        solo += await timeCommand([
          "train",
          ...flags,
          "--seed",
          String(g + 1),
          "--data-seed",
          String(598 + g),
          "--name",
          `solo_${g}`,
        ]);
      }
      // One member is a grid of one value (`sweep` refuses nothing to sweep).
      const members = M === 1 ? ["--grid", "weight_decay=1"] : ["--seeds", String(M)];
      const group = await timeCommand(["sweep", ...flags, ...members, "--name", "sweep"]);
      rows.push([String(M), solo.toFixed(1), group.toFixed(1), (group / solo).toFixed(2)]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  printTable(rows);
}

/**
 * Runs the sweep benchmark: `members` counts, the grokking preset on the adapter (runs of `short`
 * and `long` steps differenced) and the smoke preset on the CPU path (`cpuSteps` steps a member).
 *
 * @example
 * ```ts ignore
 * await benchSweep({ members: [1, 8], short: 1, long: 3, cpuSteps: 20, preset: "grokking", on: "both" });
 * ```
 */
export async function benchSweep(
  o: {
    members: number[];
    short: number;
    long: number;
    cpuSteps: number;
    preset: string;
    /** Which rows: the adapter's, the CPU path's, or both. */
    on: "gpu" | "cpu" | "both";
  },
) {
  const gpu = o.on === "cpu" ? undefined : await requestGpu().catch(() => undefined);
  if (gpu === undefined) console.log("no adapter, or --sweep-on cpu: no GPU rows");
  else {
    console.log(`adapter: ${gpu.describe()}`);
    console.log(`${o.preset} preset, runs of ${o.long} and ${o.short} steps differenced:`);
    try {
      await benchGroupGpu(gpu, o.preset, o.members, o.short, o.long);
    } finally {
      gpu.destroy();
    }
  }
  if (o.on === "gpu") return;
  console.log(`\nsmoke preset on the CPU path, ${o.cpuSteps} steps a member, whole commands:`);
  await benchGroupCpu(o.members, o.cpuSteps);
}
