/**
 * What the sweep tests share: a tiny smoke-preset member (seconds each on the CPU path), the 2×2
 * grid they sweep, and `sweep` run with its output captured.
 *
 * @module
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { sweep } from "../../cli/sweep.ts";
import { openRunFolder, readSafetensors } from "../../engine/runs/mod.ts";
import { readSweep } from "../../engine/sweep/mod.ts";

/** The smoke preset at p = 7 with a small model: seconds per member. */
export const TINY = [
  "--preset",
  "smoke",
  "--p",
  "7",
  "--d-model",
  "16",
  "--d-mlp",
  "32",
  "--device",
  "cpu",
];

/** Two weight decays × two train fractions, 20 steps each. */
export const GRID = [
  "--grid",
  "weight_decay=0.3,1 frac_train=0.3,0.6",
  "--steps",
  "20",
  "--eval-every",
  "10",
];

/**
 * What `sweep(args)` prints (its output silenced).
 *
 * @example
 * ```ts ignore
 * const script = await printed([...TINY, ...GRID, "--emit", "slurm", "--out", "/shared/runs"]);
 * ```
 */
export async function printed(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await sweep(args);
  } finally {
    console.log = log;
  }
  return lines.join("\n");
}

/**
 * The `sbatch --array` script `--emit slurm` prints for the TINY × GRID sweep named `s` in `out`,
 * dealt to `shards` array tasks.
 *
 * @example
 * ```ts ignore
 * const script = await slurmScript("/shared/runs", 4);
 * ```
 */
export function slurmScript(out: string, shards: number): Promise<string> {
  const emit = ["--emit", "slurm", "--shard-count", String(shards)];
  return printed([...TINY, ...GRID, "--out", out, "--name", "s", ...emit]);
}

/**
 * Runs the TINY × GRID sweep locally into `dir/local` and asserts that the sweep at `sharded`
 * (trained by shards elsewhere) has the same members, all done, with the same metrics (times
 * aside) and final weights.
 *
 * @example
 * ```ts ignore
 * await assertSameAsLocal(join(out, "s"), dir);
 * ```
 */
export async function assertSameAsLocal(sharded: string, dir: string): Promise<void> {
  await printed([...TINY, ...GRID, "--out", dir, "--name", "local"]);
  const [shards, local] = [await readSweep(sharded), await readSweep(join(dir, "local"))];
  assert.deepEqual(shards.members, local.members);
  assert.ok(
    Object.values(shards.status).every((s) => s === "done"),
    JSON.stringify(shards.status),
  );
  const read = async (path: string) => {
    const f = await openRunFolder(path);
    const w = await readSafetensors(f.finalPath());
    return [
      (await f.readMetrics()).map(({ time_s: _, ...x }) => x),
      [...w.tensors].map(([n, t]) => [n, t.data]),
    ];
  };
  for (const m of local.members) {
    assert.deepEqual(
      await read(join(sharded, m.name)),
      await read(join(dir, "local", m.name)),
      m.name,
    );
  }
}
