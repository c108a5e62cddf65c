/**
 * `mechlab sweep`: many runs of one preset over a grid of train's flags and seeds, one after
 * another in this process, each an ordinary run folder inside the sweep's folder beside
 * `sweep.json` (`engine/sweep/`). Every other flag is train's and applies to every member. The
 * whole grid is checked (every member's config resolved by train's own rules) before anything
 * trains. Ctrl-C stops the member training with its checkpoint, as `train` does, and starts no
 * other; the same command, or `--resume DIR`, continues (finished members skipped, a stopped one
 * resumed). `--shard I/N` (or a Slurm array task, or a Kubernetes Indexed Job's index) trains one
 * shard; `--emit slurm|k8s` prints the job that trains every shard.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import meta from "../deno.json" with { type: "json" };
import { parseDevice, parseNumber } from "./args.ts";
import { UsageError } from "./errors.ts";
import { shownCommand } from "./self_command.ts";
import { parseGrid } from "./sweep_grid.ts";
import { trainGroups } from "./sweep_groups.ts";
import { k8sManifest, slurmScript } from "./sweep_emit.ts";
import { describe, progress, rethrowAsUsage, stopOnSignals } from "./train.ts";
import { FLAG_WIDTH, flagLines, readTrainFlags, TRAIN_FLAGS } from "./train_flags.ts";
import type { Device } from "../engine/gpu/mod.ts";
import {
  openRunFolder,
  readSafetensorsMetadata,
  type RunConfig,
  validateRunName,
} from "../engine/runs/mod.ts";
import {
  gridMembers,
  groupMembers,
  memberOutcome,
  memberOverrides,
  openSweep,
  readSweep,
  setMemberStatus,
  type Shard,
  shardFrom,
  shardMembers,
  type SweepPlan,
} from "../engine/sweep/mod.ts";
import { defaultRunName, resolveConfig } from "../engine/train/presets.ts";
import { resumeRun, startRun } from "../engine/train/run.ts";
import { CpuWorkers } from "../engine/model/cpu_fast/mod.ts";

/** `sweep`'s own flags (train's come after them in `--help`). */
const SWEEP_FLAGS = {
  grid: {
    type: "string",
    help: 'axes: "weight_decay=0.3,1,3 frac_train=0.2,0.5" (any flag of train below)',
  },
  seeds: { type: "string", help: "seeds per grid point: seed + i, data seed + i (default 1)" },
  "hold-data-seed": { type: "boolean", help: "with --seeds: keep the data seed (one split)" },
  "max-members": { type: "string", help: "refuse a grid of more members (default 256)" },
  shard: { type: "string", help: "train shard I of N only (I/N, from 0)" },
  "shard-count": {
    type: "string",
    help: "N: the shards of --emit, and of a Kubernetes Job's JOB_COMPLETION_INDEX",
  },
  emit: { type: "string", help: "print the cluster job instead: slurm | k8s" },
  image: { type: "string", help: "--emit k8s: the image with mechlab (default mechlab:latest)" },
  claim: {
    type: "string",
    help: "--emit k8s: the volume claim holding --out (default mechlab-runs)",
  },
} as const;

const MAX_MEMBERS = 256;
/** The flags that go with `--resume DIR`: the plan is the sweep's own. */
const RESUME_FLAGS = ["resume", "device", "shard", "shard-count"];

function help(): string {
  return [
    'mechlab sweep --preset P --grid "KEY=V1,V2 ..." [--seeds N] [train\'s flags]',
    "",
    "Trains one run per point of the grid (and per seed) into OUT/NAME/MEMBER, ordinary run folders",
    "beside OUT/NAME/sweep.json (members, axes, status). Every train flag applies to every member.",
    "The same command again, or --resume OUT/NAME, continues it: finished members are skipped.",
    "",
    "sweep's flags:",
    ...flagLines(SWEEP_FLAGS, FLAG_WIDTH),
    "",
    "train's flags (--name names the sweep folder; --resume continues a sweep):",
    ...flagLines(TRAIN_FLAGS, FLAG_WIDTH),
    `  ${"-h, --help".padEnd(FLAG_WIDTH + 2)}this help`,
  ].join("\n");
}

/** `fn`'s result, its `RangeError` (a bad value) as a `UsageError` of one line. */
function usage<T>(fn: () => T, prefix = ""): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(prefix + e.message.split("\n")[0]);
    throw e;
  }
}

/** A sweep checked and ready: its plan, each member's config, and its folder. */
interface Prepared {
  plan: SweepPlan;
  configs: Map<string, RunConfig>;
  dir: string;
}

/** Every member's config, resolved by train's rules; a value train refuses names its member. */
function memberConfigs(plan: SweepPlan): Map<string, RunConfig> {
  const configs = new Map<string, RunConfig>();
  for (const m of plan.members) {
    const overrides = memberOverrides(plan.overrides, plan.axes, m.values);
    const config = usage(
      () => resolveConfig(plan.preset, overrides, plan.mechlab_version),
      `member ${m.name}: `,
    );
    configs.set(m.name, config);
  }
  return configs;
}

/** A new sweep's plan from the command line, every member checked. */
function planFrom(f: ReturnType<typeof readTrainFlags>): Prepared {
  const preset = f.run.preset as string | undefined;
  if (preset === undefined) throw new UsageError("--preset: a sweep needs one (see train --help)");
  const axes = typeof f.values.grid === "string" ? parseGrid(f.values.grid) : [];
  const seeds = f.values.seeds === undefined
    ? 1
    : parseNumber("--seeds", f.values.seeds as string, "int");
  if (seeds < 1) throw new UsageError(`--seeds ${seeds}: must be at least 1`);
  const hold = f.values["hold-data-seed"] === true;
  if (seeds > 1 && axes.some((a) => a.key === "seed" || (a.key === "data_seed" && !hold))) {
    throw new UsageError(
      "--seeds sets seed and data_seed: drop them from --grid (or --hold-data-seed for data_seed)",
    );
  }
  if (axes.length === 0 && seeds === 1) {
    throw new UsageError('nothing to sweep: give --grid "KEY=V1,V2" or --seeds N (N > 1)');
  }
  const base = usage(() => resolveConfig(preset, f.overrides, meta.version));
  const dataSeed = (base.task as { data_seed?: number }).data_seed;
  const members = gridMembers(axes, {
    seeds,
    base: { seed: base.model.seed, ...(dataSeed === undefined ? {} : { data_seed: dataSeed }) },
    holdDataSeed: hold,
  });
  const max = f.values["max-members"] === undefined
    ? MAX_MEMBERS
    : parseNumber("--max-members", f.values["max-members"] as string, "int");
  if (members.length > max) {
    throw new UsageError(
      `the grid has ${members.length} members, more than --max-members ${max}; raise it if meant`,
    );
  }
  const plan: SweepPlan = {
    mechlab_version: meta.version,
    preset,
    overrides: f.overrides,
    axes,
    seeds,
    hold_data_seed: hold,
    members,
  };
  const configs = memberConfigs(plan);
  groupMembers(members, [...configs.values()]);
  const name = (f.run.name as string | undefined) ?? `sweep_${defaultRunName(base)}`;
  usage(() => validateRunName(name));
  return { plan, configs, dir: join((f.run.out as string | undefined) ?? "runs", name) };
}

/**
 * One line per member trained here: its values, the step its test accuracy first reached 0.99
 * (or never), its last step's losses.
 */
async function printOutcomes(p: Prepared, names: string[]): Promise<void> {
  const rows: string[][] = [];
  for (const name of names) {
    const folder = await openRunFolder(join(p.dir, name)).catch(() => undefined);
    const o = folder && memberOutcome(await folder.readMetrics());
    if (o === undefined) continue;
    const values = Object.entries(p.plan.members.find((m) => m.name === name)!.values);
    rows.push([
      values.map(([k, v]) => `${k}=${v}`).join(" "),
      o.reached === null ? `never (by ${o.step})` : String(o.reached),
      o.trainLoss.toExponential(2),
      o.testLoss.toExponential(2),
      o.testAcc.toFixed(3),
    ]);
  }
  if (rows.length === 0) return;
  const head = ["values", "test acc >= 0.99 at", "train loss", "test loss", "test acc"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(["", line(head), ...rows.map(line)].join("\n"));
}

/** Whether a member's folder holds a run finished at its steps, a started one, or nothing. */
async function memberState(path: string, steps: number): Promise<"done" | "partial" | "none"> {
  if (!(await Deno.lstat(path).catch(() => undefined))) return "none";
  const folder = await openRunFolder(path).catch(rethrowAsUsage);
  const meta = await readSafetensorsMetadata(folder.finalPath()).catch(() => undefined);
  return meta !== undefined && Number(meta.step) === steps ? "done" : "partial";
}

/**
 * Runs `mechlab sweep` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await sweep(["--preset", "smoke", "--grid", "weight_decay=0.3,1", "--seeds", "2"]);
 * ```
 */
export async function sweep(args: string[]): Promise<void> {
  const options = Object.fromEntries(
    Object.entries(SWEEP_FLAGS).map(([k, v]) => [k, { type: v.type }]),
  ) as Record<string, { type: "string" | "boolean" }>;
  const f = readTrainFlags(args, options);
  if (f.help) return console.log(help());
  if (f.run.force !== undefined) {
    throw new UsageError("--force: a sweep is continued, never overwritten (give another --name)");
  }
  const device = parseDevice(f.run.device as string | undefined);
  const shardCount = f.values["shard-count"] === undefined
    ? undefined
    : parseNumber("--shard-count", f.values["shard-count"] as string, "int");
  const shard = usage(() =>
    shardFrom(
      {
        ...(typeof f.values.shard === "string" ? { shard: f.values.shard } : {}),
        ...(shardCount === undefined ? {} : { shardCount }),
      },
      Deno.env.toObject(),
    )
  );
  let prepared: Prepared;
  if (typeof f.run.resume === "string") {
    const given = Object.keys(f.values).filter((k) => f.values[k] !== undefined);
    const extra = given.filter((k) => !RESUME_FLAGS.includes(k));
    if (extra.length > 0) {
      throw new UsageError(
        `--resume takes the plan from its sweep.json: drop --${extra.join(", --")} ` +
          "(only --device and the shard flags go with --resume)",
      );
    }
    const plan = await readSweep(f.run.resume).catch(rethrowAsUsage);
    prepared = { plan, configs: memberConfigs(plan), dir: f.run.resume };
  } else {
    prepared = planFrom(f);
  }
  if (f.values.emit !== undefined) return emit(f, prepared, shardCount, device);
  await train(prepared, { device, shard });
}

/** Prints the Slurm script or the Kubernetes manifest for `--shard-count` shards. */
function emit(
  f: ReturnType<typeof readTrainFlags>,
  p: Prepared,
  shards: number | undefined,
  device: Device,
): void {
  const kind = f.values.emit;
  if (kind !== "slurm" && kind !== "k8s") {
    throw new UsageError(`--emit ${kind}: expected slurm or k8s`);
  }
  if (shards === undefined || shards < 1) {
    throw new UsageError(`--emit ${kind}: give the number of shards as --shard-count N (N >= 1)`);
  }
  if (f.values.resume !== undefined) throw new UsageError("--emit goes with a new sweep's flags");
  const dir = resolve(p.dir);
  // Every flag as given but the emitter's own; the folder absolute and named, for every shard.
  const own = new Set(["emit", "shard", "shard-count", "image", "claim", "out", "name"]);
  const flags = Object.entries(f.values).flatMap(([k, v]) =>
    own.has(k) || v === undefined || v === false ? [] : [v === true ? `--${k}` : `--${k}=${v}`]
  );
  const args = [...flags, `--out=${resolve(dir, "..")}`, `--name=${p.dir.split("/").at(-1)}`];
  const o = {
    args,
    name: p.dir.split("/").at(-1)!,
    dir,
    shards,
    members: p.plan.members.length,
    gpu: device === "gpu",
  };
  if (kind === "slurm") return console.log(slurmScript(o));
  const image = (f.values.image as string | undefined) ?? "mechlab:latest";
  const claim = (f.values.claim as string | undefined) ?? "mechlab-runs";
  console.log(k8sManifest(o, { image, claim, mount: resolve(dir, "..") }));
}

/**
 * Trains this shard's members: fresh ones of one shape together on a GPU (`sweep_groups.ts`), the
 * rest one after another; stops (with a checkpoint) on Ctrl-C.
 */
async function train(p: Prepared, o: { device: Device; shard: Shard | undefined }): Promise<void> {
  const { plan, configs, dir } = p;
  await openSweep(dir, plan).catch(rethrowAsUsage);
  const names = o.shard ? shardMembers(plan.members, o.shard) : plan.members.map((m) => m.name);
  const axes = plan.axes.map((a) => `${a.key} ${a.values.join(",")}`).join("; ");
  console.log(
    `sweep ${dir}: ${plan.members.length} members (${axes || "seeds only"}` +
      `${plan.seeds > 1 ? `; ${plan.seeds} seeds` : ""})` +
      (o.shard ? `, shard ${o.shard.index}/${o.shard.count}: ${names.length} here` : ""),
  );
  const stop = stopOnSignals();
  // The CPU path's workers start once for every member trained one after another.
  let pool: CpuWorkers | undefined;
  const cpuWorkers = () => pool ??= new CpuWorkers();
  let done = 0;
  let stopped: string | undefined;
  try {
    const fresh = [];
    for (const n of names) {
      if (await memberState(join(dir, n), configs.get(n)!.train.steps) === "none") fresh.push(n);
    }
    const stoppedNow = () => stop.signal !== undefined;
    const together = await trainGroups({
      dir,
      configs,
      fresh,
      device: o.device,
      stopped: stoppedNow,
    })
      .catch(rethrowAsUsage);
    done += together.size;
    for (const [i, name] of names.entries()) {
      if (together.has(name)) continue;
      if (stop.signal !== undefined) break;
      const config = configs.get(name)!;
      const path = join(dir, name);
      const state = await memberState(path, config.train.steps);
      const member = plan.members.find((m) => m.name === name)!;
      const values = Object.entries(member.values).map(([k, v]) => `${k}=${v}`).join(" ");
      console.log(`\nmember ${i + 1}/${names.length} ${name}: ${values}`);
      if (state === "done") {
        console.log("  finished before: skipped");
        await setMemberStatus(dir, name, "done");
        done++;
        continue;
      }
      let last = -1;
      let report = (_s: number, _m: Record<string, number>) => {};
      const options = {
        device: o.device,
        cpuWorkers,
        shouldStop: () => stop.signal !== undefined,
        log: (l: string) => console.log(`  ${l}`),
        onStart: (c: RunConfig, step: number) => {
          last = step;
          report = progress(c);
        },
        onMetrics: (step: number, m: Record<string, number>) => {
          last = step;
          report(step, m);
        },
      };
      await setMemberStatus(dir, name, "running");
      try {
        if (state === "partial") await resumeRun(path, options);
        else {
          console.log(describe(config));
          await startRun(config, { parent: dir, name, force: false }, options);
        }
      } catch (e) {
        await setMemberStatus(dir, name, "failed");
        rethrowAsUsage(e);
      }
      if (Deno.stdout.isTerminal()) console.log();
      if (last < config.train.steps) {
        await setMemberStatus(dir, name, "stopped");
        stopped = name;
        break;
      }
      await setMemberStatus(dir, name, "done");
      done++;
    }
  } finally {
    stop.remove();
    pool?.close();
  }
  await printOutcomes(p, names);
  const shardArgs = o.shard ? [`--shard=${o.shard.index}/${o.shard.count}`] : [];
  if (stopped !== undefined || stop.signal !== undefined) {
    console.log(
      `\nstopped: ${done} of ${names.length} members finished here${
        stopped ? `, ${stopped} with a checkpoint` : ""
      }`,
    );
    console.log(`continue it: ${shownCommand(["sweep", "--resume", dir, ...shardArgs])}`);
    Deno.exitCode = stop.signal === "SIGTERM" ? 143 : 130;
    return;
  }
  console.log(`\nsweep ${dir}: ${done} of ${names.length} members finished here`);
  console.log(`see them: ${shownCommand(["serve", "--runs", dirname(dir)])} (the sweep page)`);
}
