/**
 * What the sweep tests share: a tiny smoke-preset member (seconds each on the CPU path), the 2×2
 * grid they sweep, and `sweep` run with its output captured.
 *
 * @module
 */
import { sweep } from "../../cli/sweep.ts";

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
