/**
 * Sweeps: many runs of one preset over a grid of `train`'s flags and seeds, each member an ordinary
 * run folder inside the sweep's folder, with `sweep.json` naming the members, the axes and each
 * member's status; members dealt to shards so a sweep spreads over a cluster's array job.
 *
 * @example
 * ```ts
 * import { gridMembers } from "./mod.ts";
 * const axes = [{ flag: "frac-train", key: "frac_train", section: "task" as const, values: [0.2, 0.5] }];
 * gridMembers(axes, { seeds: 1, base: { seed: 0 }, holdDataSeed: false }).length; // 2
 * ```
 *
 * @module
 */

export * from "./plan.ts";
export * from "./outcome.ts";
export * from "./shard.ts";
export * from "./sweep_file.ts";
