/**
 * A sweep's folder: `sweep.json` (the plan, `plan.ts`, and each member's status) beside the
 * members' run folders, which are ordinary runs (`mechlab analyze`, `serve --runs SWEEP` and
 * `train --resume` open them as any other). Several processes may train one sweep at once (the
 * shards of an array job on a shared `--out`): each change to `sweep.json` is a read, a change and
 * an atomic replace (temporary file, then rename) under an `flock` on `sweep.lock`, so no update
 * is lost and no reader sees half a file. The first process writes the plan; a later one joins only
 * if its plan is the same, and is refused in one line otherwise.
 *
 * @module
 */

import { join } from "node:path";
import { acquireLock, type HeldLock, RunInputError, writeFileAtomic } from "../runs/mod.ts";
import type { SweepPlan } from "./plan.ts";

/** The sweep's file in its folder. */
export const SWEEP_FILE = "sweep.json";
const SWEEP_LOCK = "sweep.lock";

/** Where a member stands: not started, training, finished, stopped with a checkpoint, or failed. */
export type MemberStatus = "pending" | "running" | "done" | "stopped" | "failed";

/** `sweep.json`: the plan and each member's status, by name. */
export interface SweepFile extends SweepPlan {
  status: Record<string, MemberStatus>;
}

/** Takes `sweep.lock`, waiting for another process' update (they take milliseconds) up to 30 s. */
async function lockSweep(dir: string): Promise<HeldLock> {
  for (let i = 0;; i++) {
    try {
      return await acquireLock(dir, { file: SWEEP_LOCK, command: "sweep" });
    } catch (e) {
      if (!(e instanceof RunInputError) || i >= 300) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `fn` with `sweep.lock` held. */
async function locked<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockSweep(dir);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

async function write(dir: string, file: SweepFile): Promise<void> {
  const text = JSON.stringify(file, null, 1) + "\n";
  await writeFileAtomic(join(dir, SWEEP_FILE), new TextEncoder().encode(text));
}

/** The plan's part of a file, for comparing. */
function planText(p: SweepPlan): string {
  const { mechlab_version, preset, overrides, axes, seeds, hold_data_seed, members } = p;
  return JSON.stringify({
    mechlab_version,
    preset,
    overrides,
    axes,
    seeds,
    hold_data_seed,
    members,
  });
}

/**
 * Reads `dir/sweep.json`, or a one-line `RunInputError` naming the file when it is missing or not
 * a sweep's.
 *
 * @example
 * ```ts
 * import { readSweep } from "./sweep_file.ts";
 * await readSweep("runs/no-such-sweep").catch((e) => e.message);
 * // "runs/no-such-sweep/sweep.json not found: not a sweep folder"
 * ```
 */
export async function readSweep(dir: string): Promise<SweepFile> {
  const path = join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new RunInputError(`${path} not found: not a sweep folder`);
  }
  let value: Partial<SweepFile>;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunInputError(`${path}: not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const ok = typeof value === "object" && value !== null && typeof value.preset === "string" &&
    Array.isArray(value.axes) && Array.isArray(value.members) && typeof value.status === "object" &&
    typeof value.overrides === "object" && Number.isInteger(value.seeds);
  if (!ok) throw new RunInputError(`${path}: not a sweep's file (preset, axes, members, status)`);
  return value as SweepFile;
}

/**
 * Makes `dir` and writes `plan` there with every member pending, or joins the sweep already there
 * if its plan is the same; a folder holding another plan is refused in one line.
 *
 * @example
 * ```ts ignore
 * const file = await openSweep("runs/sweep_modular_add_23", plan);
 * ```
 */
export async function openSweep(dir: string, plan: SweepPlan): Promise<SweepFile> {
  await Deno.mkdir(dir, { recursive: true });
  return await locked(dir, async () => {
    const there = await Deno.lstat(join(dir, SWEEP_FILE)).then(() => true, () => false);
    if (there) {
      const file = await readSweep(dir);
      if (planText(file) !== planText(plan)) {
        throw new RunInputError(
          `${dir} holds another sweep (its sweep.json differs): continue it with --resume ${dir}, ` +
            "or give another --name",
        );
      }
      return file;
    }
    const file = {
      ...plan,
      status: Object.fromEntries(plan.members.map((m) => [m.name, "pending" as const])),
    };
    await write(dir, file);
    return file;
  });
}

/**
 * Sets one member's status in `dir/sweep.json` (under the lock, atomically).
 *
 * @example
 * ```ts ignore
 * await setMemberStatus("runs/sweep_modular_add_23", "000_weight_decay-0.3", "done");
 * ```
 */
export async function setMemberStatus(
  dir: string,
  name: string,
  status: MemberStatus,
): Promise<void> {
  await locked(dir, async () => {
    const file = await readSweep(dir);
    file.status[name] = status;
    await write(dir, file);
  });
}
