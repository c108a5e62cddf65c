/**
 * A sweep's plan: its axes (flags of `train` with the values they take), its seeds, and the
 * members, one per point of the grid and seed, each an ordinary run with the sweep's common flags
 * and its own values. Members of equal shape (the same model but for its seed and initial scale,
 * the same task and batch size) form a group: the set a future version trains in one batched
 * pass, and the unit `shard.ts` deals whole to machines.
 *
 * @module
 */

import type { Overrides } from "../train/presets.ts";
import type { RunConfig } from "../runs/mod.ts";

/** A value an axis takes: a number, a choice, a switch, or `null` (`normalization_type none`). */
export type SweepValue = number | string | boolean | null;

/** One axis of the grid: a flag of `train` and its values, in the order given. */
export interface SweepAxis {
  /** The flag's name (`weight-decay`). */
  flag: string;
  /** Its config key (`weight_decay`). */
  key: string;
  /** The config section it sets. */
  section: "task" | "model" | "train";
  values: SweepValue[];
}

/** One member: its run folder's name and its own values, by config key. */
export interface SweepMember {
  name: string;
  /** Each axis' value, and with `--seeds` the `seed` (and `data_seed`) it trains with. */
  values: Record<string, SweepValue>;
  /** The index of its equal-shape group (groups numbered by their first member). */
  group: number;
}

/** Everything that says what a sweep trains; saved in `sweep.json`, compared when a shard joins. */
export interface SweepPlan {
  mechlab_version: string;
  preset: string;
  /** The config overrides every member gets (train's flags, as `resolveConfig` takes them). */
  overrides: Required<Overrides>;
  axes: SweepAxis[];
  /** Seeds per grid point: seed i of N adds i to the model's seed (and the data's). */
  seeds: number;
  /** Whether the data seed stays the same for every seed (`--hold-data-seed`). */
  hold_data_seed: boolean;
  members: SweepMember[];
}

/** The base seeds seed i counts from: the config's own. */
export interface SeedBase {
  seed: number;
  /** Absent for a task without a data seed. */
  data_seed?: number;
}

/**
 * The members of a grid: every combination of the axes' values (the first axis slowest), each
 * `seeds` times. With `seeds` > 1 a member's `seed` is `base.seed + i` and its `data_seed`
 * `base.data_seed + i` unless `holdDataSeed`; with one seed neither is set, so a member is the run
 * `train` gives with the same flags. Groups are left at 0 (`groupMembers` numbers them).
 *
 * @example
 * ```ts
 * import { gridMembers } from "./plan.ts";
 * const axes = [{ flag: "weight-decay", key: "weight_decay", section: "train" as const, values: [0.3, 1] }];
 * gridMembers(axes, { seeds: 2, base: { seed: 0, data_seed: 5 }, holdDataSeed: false })
 *   .map((m) => m.name);
 * // ["000_weight_decay-0.3_seed-0", "001_weight_decay-0.3_seed-1", "002_weight_decay-1_seed-0", "003_weight_decay-1_seed-1"]
 * ```
 */
export function gridMembers(
  axes: readonly SweepAxis[],
  options: { seeds: number; base: SeedBase; holdDataSeed: boolean },
): SweepMember[] {
  let points: Record<string, SweepValue>[] = [{}];
  for (const axis of axes) {
    points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  }
  const members: SweepMember[] = [];
  for (const point of points) {
    for (let i = 0; i < options.seeds; i++) {
      const values = { ...point };
      if (options.seeds > 1) {
        values.seed = options.base.seed + i;
        if (options.base.data_seed !== undefined) {
          values.data_seed = options.base.data_seed + (options.holdDataSeed ? 0 : i);
        }
      }
      members.push({ name: memberName(members.length, values, i), values, group: 0 });
    }
  }
  return members;
}

/** `003_weight_decay-1_frac_train-0.3_seed-1`: the index, each axis' value, the seed index. */
function memberName(index: number, values: Record<string, SweepValue>, seedIndex: number): string {
  const parts = Object.entries(values)
    .filter(([key]) => key !== "seed" && key !== "data_seed")
    .map(([key, v]) => `${key}-${v ?? "none"}`);
  if ("seed" in values) parts.push(`seed-${seedIndex}`);
  // Run names take letters, digits, ".", "_" and "-"; the index keeps names apart.
  const text = [String(index).padStart(3, "0"), ...parts].join("_").replace(/[^\w.-]/g, "~");
  return text.replaceAll("..", "~").slice(0, 200);
}

/** Where each swept key goes in a config: the axes' sections, `seed` the model's, `data_seed` the task's. */
function sectionOf(axes: readonly SweepAxis[], key: string): "task" | "model" | "train" {
  if (key === "seed") return "model";
  if (key === "data_seed") return "task";
  return axes.find((a) => a.key === key)!.section;
}

/**
 * A member's config overrides: the sweep's common ones with the member's values over them.
 *
 * @example
 * ```ts
 * import { memberOverrides } from "./plan.ts";
 * const axes = [{ flag: "weight-decay", key: "weight_decay", section: "train" as const, values: [3] }];
 * const common = { task: {}, model: {}, train: { steps: 100 } };
 * memberOverrides(common, axes, { weight_decay: 3, seed: 1 });
 * // { task: {}, model: { seed: 1 }, train: { steps: 100, weight_decay: 3 } }
 * ```
 */
export function memberOverrides(
  common: Required<Overrides>,
  axes: readonly SweepAxis[],
  values: Record<string, SweepValue>,
): Required<Overrides> {
  const out = { task: { ...common.task }, model: { ...common.model }, train: { ...common.train } };
  for (const [key, v] of Object.entries(values)) {
    (out[sectionOf(axes, key)] as Record<string, unknown>)[key] = v;
  }
  return out;
}

/**
 * What makes two members the same shape: the model's config but its seed and initial scale (the
 * weights' and every buffer's shapes, the kernels), the task and the batch size.
 *
 * @example
 * ```ts ignore
 * shapeKey(configA) === shapeKey(configB); // true when only seed or weight_decay differ
 * ```
 */
export function shapeKey(config: RunConfig): string {
  const { seed: _, initializer_range: __, ...model } = config.model;
  return JSON.stringify({ task: config.task.task, model, batch: config.train.batch_size });
}

/**
 * Numbers the members' equal-shape groups, in order of each group's first member, from each
 * member's resolved config.
 *
 * @example
 * ```ts ignore
 * groupMembers(members, configs); // members[i].group set
 * ```
 */
export function groupMembers(members: SweepMember[], configs: readonly RunConfig[]): void {
  const index = new Map<string, number>();
  members.forEach((m, i) => {
    const key = shapeKey(configs[i]!);
    if (!index.has(key)) index.set(key, index.size);
    m.group = index.get(key)!;
  });
}
