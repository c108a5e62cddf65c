/**
 * `mechlab sweep --grid "weight_decay=0.3,1,3 frac_train=0.2,0.5"`: the grid's axes, each a flag of
 * `train` (named as its config key, `weight_decay`, or as its flag, `weight-decay`) with its values
 * parsed by train's own table (`train_flags.ts`), so a value train would not take as a number is
 * refused here the same way. Values train would refuse for range (`frac_train=1.5`) are refused
 * when every member's config is resolved, before anything trains (`cli/sweep.ts`).
 *
 * @module
 */

import type { SweepAxis } from "../engine/sweep/mod.ts";
import { UsageError } from "./errors.ts";
import { type Flag, parseFlagValue, TRAIN_FLAGS } from "./train_flags.ts";

/** Flags a grid may not sweep: where runs go and how they start are the sweep's own. */
const NOT_SWEPT = new Set(["preset", "out", "name", "force", "resume", "device"]);

/** `key` (`weight_decay`) or flag name (`weight-decay`) as train's flag, or undefined. */
function flagOf(name: string): [string, Flag] | undefined {
  const direct = TRAIN_FLAGS[name];
  if (direct) return [name, direct];
  return Object.entries(TRAIN_FLAGS).find(([, f]) => f.key === name);
}

/**
 * The axes of a `--grid` text: space-separated `name=v1,v2,...`, each name a flag of `train`.
 * Refused in one line (a `UsageError`): a word without `=`, an unknown or unsweepable flag, an
 * empty value or axis, a repeated axis or value, a value that is not of the flag's kind.
 *
 * @example
 * ```ts
 * import { parseGrid } from "./sweep_grid.ts";
 * const axes = parseGrid("weight_decay=0.3,1 act-fn=relu,gelu");
 * axes.map((a) => [a.key, a.values]); // [["weight_decay", [0.3, 1]], ["act_fn", ["relu", "gelu"]]]
 * ```
 */
export function parseGrid(text: string): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const word of text.trim().split(/\s+/).filter((w) => w !== "")) {
    const eq = word.indexOf("=");
    if (eq < 1) {
      throw new UsageError(
        `--grid: '${word}' is not NAME=VALUE,VALUE,... (e.g. weight_decay=0.3,1)`,
      );
    }
    const name = word.slice(0, eq);
    const found = flagOf(name);
    if (found === undefined) {
      throw new UsageError(`--grid: unknown flag '${name}' (a flag of train; see train --help)`);
    }
    const [flag, f] = found;
    if (NOT_SWEPT.has(flag)) {
      throw new UsageError(`--grid: --${flag} is the sweep's own, not an axis`);
    }
    if (axes.some((a) => a.key === f.key)) {
      throw new UsageError(`--grid: ${f.key} is given twice`);
    }
    const raw = word.slice(eq + 1).split(",");
    if (raw.every((r) => r === "")) throw new UsageError(`--grid: ${f.key} has no values`);
    if (raw.some((r) => r === "")) throw new UsageError(`--grid: ${f.key} has an empty value`);
    const values = raw.map((r) => gridValue(flag, f, r));
    const seen = new Set(values.map((v) => JSON.stringify(v)));
    if (seen.size !== values.length) throw new UsageError(`--grid: ${f.key} repeats a value`);
    axes.push({ flag, key: f.key, section: f.section as SweepAxis["section"], values });
  }
  if (axes.length === 0) throw new UsageError('--grid: no axes (e.g. --grid "weight_decay=0.3,1")');
  return axes;
}

/** One grid value as train parses its flag (a bool flag takes `true` or `false`). */
function gridValue(flag: string, f: Flag, raw: string): number | string | boolean | null {
  if (f.kind === "bool") {
    if (raw !== "true" && raw !== "false") {
      throw new UsageError(`--grid: ${f.key} ${raw}: expected true or false`);
    }
    return raw === "true";
  }
  try {
    return parseFlagValue(flag, f, raw) as number | string | null;
  } catch (e) {
    throw new UsageError(`--grid: ${(e as Error).message}`);
  }
}
