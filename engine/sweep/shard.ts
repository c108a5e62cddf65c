/**
 * Which members a machine trains: shard I of N. Members are dealt so that the shards are disjoint
 * and together the whole sweep, and an equal-shape group stays on one shard unless it alone is more
 * than a shard's share (⌈M / N⌉ members), when it is cut into pieces of that share, so one large
 * group (a sweep over weight decay and seeds is all one shape) still spreads over every machine.
 * The pieces go largest first to the shard with the fewest members so far (ties: the lowest index,
 * then the earliest piece), so every machine computes the same deal from the plan alone.
 *
 * Where no `--shard I/N` is given, the scheduler's environment says: Slurm array jobs set
 * `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (and `SLURM_ARRAY_TASK_MIN`, subtracted),
 * Kubernetes Indexed Jobs `JOB_COMPLETION_INDEX`, with the count from `--shard-count`.
 *
 * @module
 */

import type { SweepMember } from "./plan.ts";

/** One shard: index I (from 0) of N. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The names of the members shard `shard.index` of `shard.count` trains, in sweep order.
 *
 * @example
 * ```ts
 * import { shardMembers } from "./shard.ts";
 * const m = (name: string, group: number) => ({ name, values: {}, group });
 * const members = [m("a", 0), m("b", 0), m("c", 1), m("d", 2)];
 * shardMembers(members, { index: 0, count: 2 }); // ["a", "b"]
 * shardMembers(members, { index: 1, count: 2 }); // ["c", "d"]
 * ```
 */
export function shardMembers(members: readonly SweepMember[], shard: Shard): string[] {
  const { index, count } = shard;
  if (
    !Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count
  ) {
    throw new RangeError(`shard ${index}/${count}: expected I/N with 0 <= I < N`);
  }
  const share = Math.max(1, Math.ceil(members.length / count));
  const groups = new Map<number, SweepMember[]>();
  for (const m of members) groups.set(m.group, [...(groups.get(m.group) ?? []), m]);
  const pieces: SweepMember[][] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.length; i += share) pieces.push(g.slice(i, i + share));
  }
  // A stable sort: equal sizes keep their order.
  const order = pieces.map((p, i) => ({ p, i })).sort((a, b) =>
    b.p.length - a.p.length || a.i - b.i
  );
  const load = new Array<number>(count).fill(0);
  const mine = new Set<string>();
  for (const { p } of order) {
    const to = load.indexOf(Math.min(...load));
    load[to]! += p.length;
    if (to === index) p.forEach((m) => mine.add(m.name));
  }
  return members.filter((m) => mine.has(m.name)).map((m) => m.name);
}

/**
 * `--shard I/N` as a shard, or the scheduler's: Slurm's array task (id minus its min, of its
 * count), or a Kubernetes Indexed Job's completion index of `shardCount`; undefined when none
 * applies (the whole sweep). A malformed value is a one-line `RangeError` naming it.
 *
 * @example
 * ```ts
 * import { shardFrom } from "./shard.ts";
 * shardFrom({ shard: "1/4" }, {}); // { index: 1, count: 4 }
 * shardFrom({}, { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4" }); // { index: 3, count: 4 }
 * shardFrom({ shardCount: 8 }, { JOB_COMPLETION_INDEX: "5" }); // { index: 5, count: 8 }
 * shardFrom({}, {}); // undefined
 * ```
 */
export function shardFrom(
  flags: { shard?: string; shardCount?: number },
  env: Record<string, string | undefined>,
): Shard | undefined {
  const whole = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
      throw new RangeError(`${name} ${text}: not a whole number`);
    }
    return n;
  };
  const checked = (what: string, shard: Shard) => {
    if (shard.count < 1 || shard.index >= shard.count) {
      throw new RangeError(
        `${what}: shard ${shard.index} of ${shard.count} (expected I < N, N >= 1)`,
      );
    }
    return shard;
  };
  if (flags.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.shard);
    if (!m) throw new RangeError(`--shard ${flags.shard}: expected I/N, e.g. 0/4`);
    return checked(`--shard ${flags.shard}`, { index: Number(m[1]), count: Number(m[2]) });
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = whole("SLURM_ARRAY_TASK_ID", env.SLURM_ARRAY_TASK_ID);
    const min = env.SLURM_ARRAY_TASK_MIN === undefined
      ? 0
      : whole("SLURM_ARRAY_TASK_MIN", env.SLURM_ARRAY_TASK_MIN);
    const count = whole("SLURM_ARRAY_TASK_COUNT", env.SLURM_ARRAY_TASK_COUNT);
    return checked("SLURM_ARRAY_TASK_ID", { index: id - min, count });
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = whole("JOB_COMPLETION_INDEX", env.JOB_COMPLETION_INDEX);
    if (flags.shardCount === undefined) {
      throw new RangeError(
        "JOB_COMPLETION_INDEX is set: give the Job's completions as --shard-count N",
      );
    }
    return checked("JOB_COMPLETION_INDEX", { index, count: flags.shardCount });
  }
  return undefined;
}
