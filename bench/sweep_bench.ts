/**
 * The sweep benchmark (issue 14, item 3): M members trained together against M solo runs, in the
 * same command. On the adapter at hand: the training step of each group of members
 * (`buildGroupStep`, what `trainGroupOnGpu` runs) against the steps of the same members one at a
 * time (a one-member build is a solo `trainOnGpu` step's dispatches), each build timing `timed`
 * steps in one submit (as a run submits the steps between evaluations) after `warm` untimed ones
 * (pipelines are compiled when built): ms and dispatches per step, submits per chunk, and the
 * machine's load average. A group's solo steps and its own run next to each other, the order
 * flipped every round, so that a drift in a shared machine's load falls on both. Evaluations and
 * checkpoints are left out: a step of 64 grokking members takes minutes on lavapipe. Beside them,
 * the fixed costs a group removes, as a share of the solo steps: its members' dispatches past one
 * model's (each timed as a one-element dispatch doing nothing) and their submits past one. What a
 * group saves beyond that share is the adapter's threads kept busier by dispatches of more
 * workgroups. Whole runs,
 * on the CPU path or the adapter: one `sweep --seeds M` process against M `train` processes of
 * the smoke preset (start-up, data and training: what a person running M commands pays).
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { buildTask } from "../engine/data/mod.ts";
import { type Gpu, requestGpu } from "../engine/gpu/mod.ts";
import { zeroFill } from "../kernels/mod.ts";
import { initParams, paramLayout } from "../engine/model/params.ts";
import type { RunConfig } from "../engine/runs/mod.ts";
import { buildGroupStep } from "../engine/train/group_trainer.ts";
import { groupCapacity } from "../engine/train/run.ts";
import { resolveConfig } from "../engine/train/presets.ts";
import { freshState } from "../engine/train/state.ts";
import { printTable } from "./timing.ts";

/** Member g's config: the preset with its own model seed g + 1 and data seed 598 + g. */
function member(preset: string, g: number): RunConfig {
  return resolveConfig(preset, {
    task: { data_seed: 598 + g },
    model: { seed: g + 1 },
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

/** The machine's 1-minute load average (shared with other jobs: reported with each figure). */
function load(): number {
  return Deno.loadavg()[0]!;
}

/** Untimed steps, then timed steps (one submit), of each build; rounds of every build. */
interface Steps {
  warm: number;
  timed: number;
  rounds: number;
}

/** What timed steps cost: ms, dispatches and submits, summed over builds. */
interface Cost {
  ms: number;
  dispatches: number;
  submits: number;
}

/** What this adapter charges for a dispatch and a submit that do no work, in ms. */
interface Overhead {
  dispatch: number;
  submit: number;
}

/**
 * A dispatch's and a submit's own cost here: 1,000 one-element fills (one workgroup each, no
 * work) in one submit, and a submit of one fill and its wait, each the median of 5 after a warm one.
 */
async function measureOverhead(gpu: Gpu): Promise<Overhead> {
  const one = gpu.zeros([1]);
  try {
    const fill = await zeroFill(gpu, one);
    const median = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i <= 5; i++) {
        const t0 = performance.now();
        gpu.run(fill, { repeat: n });
        await gpu.sync();
        if (i > 0) ms.push(performance.now() - t0);
      }
      return ms.sort((a, b) => a - b)[2]!;
    };
    const submit = await median(1);
    return { dispatch: (await median(1001) - submit) / 1000, submit };
  } finally {
    one.release();
  }
}

/** Runs `warm` steps of `configs`' members built as one step, then `timed` timed steps. */
async function timeSteps(
  gpu: Gpu,
  counts: { dispatches: number; submits: number },
  configs: RunConfig[],
  steps: Steps,
): Promise<Cost> {
  const model = configs[0]!.model;
  const layout = paramLayout(model);
  const members = configs.map((c) => ({
    task: buildTask(c.task),
    train: c.train,
    state: freshState(initParams(c.model, layout)),
  }));
  const built = await buildGroupStep(gpu, { model, layout }, members);
  try {
    if (steps.warm > 0) gpu.run(built.step, { repeat: steps.warm });
    await gpu.sync();
    const [d0, s0, t0] = [counts.dispatches, counts.submits, performance.now()];
    gpu.run(built.step, { repeat: steps.timed });
    await gpu.sync();
    const ms = performance.now() - t0;
    return { ms, dispatches: counts.dispatches - d0, submits: counts.submits - s0 };
  } finally {
    built.release();
  }
}

/**
 * M members' steps: in groups of at most the capacity; for each group, `rounds` rounds of its
 * members one at a time and then together, the order flipped every round (solo, group, group,
 * solo, ...), so that a drift in a shared machine's load falls on both; summed, with the 1-minute
 * load averages seen.
 */
async function stepsBoth(
  gpu: Gpu,
  preset: string,
  M: number,
  steps: Steps,
) {
  const configs = Array.from({ length: M }, (_, g) => member(preset, g));
  const counts = countWork(gpu);
  const size = Math.min(M, groupCapacity(configs[0]!, buildTask(configs[0]!.task), gpu));
  const solo: Cost = { ms: 0, dispatches: 0, submits: 0 };
  const group: Cost = { ms: 0, dispatches: 0, submits: 0 };
  const add = (into: Cost, c: Cost) => {
    into.ms += c.ms;
    into.dispatches += c.dispatches;
    into.submits += c.submits;
  };
  const loads = [load()];
  let round = 0;
  for (let i = 0; i < M; i += size) {
    const chunk = configs.slice(i, i + size);
    const alone = async () => {
      let ms = 0;
      for (const c of chunk) {
        const t = await timeSteps(gpu, counts, [c], steps);
        ms += t.ms;
        add(solo, t);
      }
      console.log(`  ${chunk.length} solo: ${ms.toFixed(0)} ms, load ${load().toFixed(1)}`);
    };
    const together = async () => {
      const t = await timeSteps(gpu, counts, chunk, steps);
      console.log(`  group of ${chunk.length}: ${t.ms.toFixed(0)} ms, load ${load().toFixed(1)}`);
      add(group, t);
    };
    for (let r = 0; r < steps.rounds; r++, round++) {
      if (round % 2 === 0) (await alone(), await together());
      else (await together(), await alone());
      loads.push(load());
    }
  }
  return { solo, group, groups: Math.ceil(M / size), loads };
}

/** The GPU rows: per M, ms, dispatches and submits per step, solo and grouped, and the load. */
async function benchGroupGpu(
  gpu: Gpu,
  preset: string,
  members: number[],
  steps: Steps,
) {
  const rows = [[
    "M",
    "groups",
    "M solo ms/step",
    "group ms/step",
    "ratio",
    "disp/step solo",
    "group",
    "submits/chunk solo",
    "group",
    "fixed %",
    "load avg 1 min",
  ]];
  const cost = await measureOverhead(gpu);
  console.log(
    `  a dispatch doing nothing: ${(1000 * cost.dispatch).toFixed(0)} µs; a submit and its ` +
      `wait: ${cost.submit.toFixed(1)} ms`,
  );
  for (const M of members) {
    const r = await stepsBoth(gpu, preset, M, steps);
    const per = (k: "solo" | "group", f: keyof Cost) => r[k][f] / (steps.timed * steps.rounds);
    // The fixed costs a group removes a step: its solo runs' dispatches and submits past its own.
    const saved = (per("solo", "dispatches") - per("group", "dispatches")) * cost.dispatch +
      (per("solo", "submits") - per("group", "submits")) * cost.submit;
    rows.push([
      String(M),
      String(r.groups),
      per("solo", "ms").toFixed(1),
      per("group", "ms").toFixed(1),
      (per("group", "ms") / per("solo", "ms")).toFixed(2),
      per("solo", "dispatches").toFixed(0),
      per("group", "dispatches").toFixed(0),
      // A chunk of `timed` steps is one submit a build, as a run's steps between evaluations.
      (r.solo.submits / steps.rounds).toFixed(0),
      (r.group.submits / steps.rounds).toFixed(0),
      (100 * saved / per("solo", "ms")).toFixed(2),
      `${Math.min(...r.loads).toFixed(1)}-${Math.max(...r.loads).toFixed(1)}`,
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

/** Where the whole runs train: the CPU path or the adapter. */
type RunDevice = "cpu" | "gpu";

/**
 * Whole commands on `device`, the smoke preset: M `train` processes against one `sweep` process
 * training the same M members (start-up, data, training, an evaluation at the first and last step
 * and a checkpoint: what a person running M commands pays). `rounds` rounds a row, the order (M
 * trains first, the sweep first) flipped every round so that a drift in a shared machine's load
 * falls on both; summed, with the 1-minute load averages seen.
 */
async function benchWholeRuns(
  device: RunDevice,
  members: number[],
  steps: number,
  rounds: number,
) {
  const rows = [["M", "M train processes s", "one sweep s", "ratio", "load avg 1 min"]];
  let round = 0;
  for (const M of members) {
    const dir = await Deno.makeTempDir();
    try {
      const flags = [
        ...["--preset", "smoke", "--device", device, "--steps", String(steps), "--out", dir],
        ...["--eval-every", String(steps), "--checkpoint-every", String(steps)],
      ];
      let [solo, group] = [0, 0];
      const loads = [load()];
      const trains = async (r: number) => {
        let s = 0;
        for (let g = 0; g < M; g++) {
          const seeds = ["--seed", String(g + 1), "--data-seed", String(598 + g)];
          s += await timeCommand(["train", ...flags, ...seeds, "--name", `solo_${r}_${g}`]);
        }
        console.log(`  ${M} train: ${s.toFixed(1)} s, load ${load().toFixed(1)}`);
        solo += s;
      };
      const sweep = async (r: number) => {
        // One member is a grid of one value (`sweep` refuses nothing to sweep).
        const m = M === 1 ? ["--grid", "weight_decay=1"] : ["--seeds", String(M)];
        const s = await timeCommand(["sweep", ...flags, ...m, "--name", `sweep_${r}`]);
        console.log(`  sweep of ${M}: ${s.toFixed(1)} s, load ${load().toFixed(1)}`);
        group += s;
      };
      for (let r = 0; r < rounds; r++, round++) {
        if (round % 2 === 0) (await trains(r), await sweep(r));
        else (await sweep(r), await trains(r));
        loads.push(load());
      }
      rows.push([
        String(M),
        (solo / rounds).toFixed(1),
        (group / rounds).toFixed(1),
        (group / solo).toFixed(2),
        `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      ]);
      // Each row as it comes: a long run that is cut short still leaves its first rows.
      console.log(rows.at(-1)!.join("  "));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  printTable(rows);
}

/**
 * Runs the sweep benchmark: `members` counts; `on` picks the rows: "gpu", the `preset`
 * (grokking)'s training steps on the adapter (`rounds` rounds of `timed` steps per build after
 * `warm` untimed ones); "cpu" and "gpu-runs", whole commands of the smoke preset on the CPU path
 * or the adapter (`runSteps` steps a member, `rounds` rounds); "both", "gpu" and "cpu".
 *
 * @example
 * ```ts ignore
 * await benchSweep({ members: [1, 8], warm: 1, timed: 1, rounds: 2, runSteps: 20, preset: "grokking", on: "both" });
 * ```
 */
export async function benchSweep(
  o: {
    members: number[];
    warm: number;
    timed: number;
    rounds: number;
    runSteps: number;
    preset: string;
    /** Which rows: the adapter's steps, the CPU path's whole runs, both, or the adapter's whole runs. */
    on: "gpu" | "cpu" | "both" | "gpu-runs";
  },
) {
  if (o.on === "gpu" || o.on === "both") {
    const gpu = await requestGpu().catch(() => undefined);
    if (gpu === undefined) console.log("no adapter: no GPU rows");
    else {
      console.log(`adapter: ${gpu.describe()}`);
      console.log(
        `${o.preset} preset, ${o.rounds} rounds of ${o.timed} steps timed after ${o.warm} warm:`,
      );
      try {
        await benchGroupGpu(gpu, o.preset, o.members, {
          warm: o.warm,
          timed: o.timed,
          rounds: o.rounds,
        });
      } finally {
        gpu.destroy();
      }
    }
  }
  if (o.on === "gpu") return;
  const device = o.on === "gpu-runs" ? "gpu" : "cpu";
  console.log(
    `\nsmoke preset, --device ${device}, ${o.runSteps} steps a member, ${o.rounds} rounds, whole commands:`,
  );
  await benchWholeRuns(device, o.members, o.runSteps, o.rounds);
}
