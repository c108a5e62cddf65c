/**
 * The sweeps under the runs folder, as the server lists them: a plain folder holding a
 * `sweep.json` (`engine/sweep/sweep_file.ts`) is a sweep, and each of its members an ordinary run
 * in it, read through the server's `RunIndex` as `SWEEP/MEMBER` (so the run endpoints open a
 * member as any run, and its metrics are read incrementally once). Every look reads `sweep.json`
 * again if it changed and stats each member's folder, so members that shards on other machines
 * write into a shared folder appear as they land.
 *
 * @module
 */

import { join } from "node:path";
import { memberOutcome, readSweep, SWEEP_FILE, type SweepFile } from "../sweep/mod.ts";
import type {
  MetricsRecord,
  SweepDetail,
  SweepMemberRow,
  SweepOutcome,
  SweepSummary,
} from "./api_types.ts";
import { type RunEntry, type RunIndex, validName } from "./run_index.ts";

/** A sweep as the index holds it: its file and its members' runs that have landed. */
export interface SweepEntry {
  name: string;
  file: SweepFile;
  /** By member name; a member absent here has no run folder yet. */
  runs: Map<string, RunEntry>;
}

/** The keys a member's curve keeps: what the sweep page draws. */
const CURVE_KEYS = ["step", "test/acc", "test/loss", "train/loss", "train/acc"];

/**
 * The sweeps under one runs folder, brought up to date on each look.
 *
 * @example
 * ```ts ignore
 * const sweeps = new SweepIndex(index);
 * (await sweeps.scan()).map((s) => summarizeSweep(s).landed);
 * ```
 */
export class SweepIndex {
  #index: RunIndex;
  #files = new Map<string, { mtime: number; size: number; file: SweepFile }>();

  /** The sweeps of `index`'s runs folder, their members read through `index`. */
  constructor(index: RunIndex) {
    this.#index = index;
  }

  /** Every sweep, by name. A missing runs folder holds none; an unreadable `sweep.json` is skipped. */
  async scan(): Promise<SweepEntry[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.#index.root)) {
        if (e.isDirectory && !e.isSymlink && validName(e.name)) names.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const out: SweepEntry[] = [];
    for (const name of names.sort()) {
      const entry = await this.get(name);
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  /** One sweep by a valid run name, up to date; undefined if it is not a sweep. */
  async get(name: string): Promise<SweepEntry | undefined> {
    const path = join(this.#index.root, name, SWEEP_FILE);
    const info = await Deno.lstat(path).catch(() => undefined);
    if (!info?.isFile) {
      this.#files.delete(name);
      return undefined;
    }
    let cached = this.#files.get(name);
    const mtime = info.mtime?.getTime() ?? 0;
    if (cached === undefined || cached.mtime !== mtime || cached.size !== info.size) {
      const file = await readSweep(join(this.#index.root, name)).catch(() => undefined);
      if (file === undefined) return undefined; // not a sweep's file (now): skipped
      cached = { mtime, size: info.size, file };
      this.#files.set(name, cached);
    }
    const runs = new Map<string, RunEntry>();
    for (const m of cached.file.members) {
      if (!validName(m.name)) continue; // a hand-edited file names nothing outside its folder
      const run = await this.#index.get(`${name}/${m.name}`);
      if (run !== undefined) runs.set(m.name, run);
    }
    return { name, file: cached.file, runs };
  }
}

/**
 * The `GET /api/sweeps` row of a sweep.
 *
 * @example
 * ```ts ignore
 * summarizeSweep(entry); // { name, preset, axes: ["weight_decay"], seeds: 2, members: 4, landed: 4, done: 4 }
 * ```
 */
export function summarizeSweep(entry: SweepEntry): SweepSummary {
  const { file } = entry;
  return {
    name: entry.name,
    preset: file.preset,
    axes: file.axes.map((a) => a.key),
    seeds: file.seeds,
    members: file.members.length,
    landed: entry.runs.size,
    done: file.members.filter((m) => file.status[m.name] === "done").length,
  };
}

/**
 * `GET /api/sweeps/NAME`: the plan's axes and each member's values, status, outcome and curve.
 *
 * @example
 * ```ts ignore
 * sweepDetail(entry).members[0].outcome?.reached; // 450, or null: never
 * ```
 */
export function sweepDetail(entry: SweepEntry): SweepDetail {
  const { file } = entry;
  const members: SweepMemberRow[] = file.members.map((m) => {
    const run = entry.runs.get(m.name);
    const records = (run?.records ?? []) as Record<string, number>[];
    const outcome = memberOutcome(records);
    return {
      name: m.name,
      run: `${entry.name}/${m.name}`,
      values: m.values,
      status: run === undefined
        ? "absent"
        : run.training
        ? "running"
        : file.status[m.name] ?? "pending",
      outcome: outcome === undefined ? null : finite(outcome),
      curve: (run?.records ?? []).map(cut),
    };
  });
  return {
    name: entry.name,
    preset: file.preset,
    seeds: file.seeds,
    axes: file.axes.map((a) => ({ key: a.key, values: a.values })),
    members,
  };
}

/** NaN (a key the line lacks) as null, which JSON keeps. */
function finite(o: NonNullable<ReturnType<typeof memberOutcome>>): SweepOutcome {
  const n = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    reached: o.reached,
    step: o.step,
    trainLoss: n(o.trainLoss),
    testLoss: n(o.testLoss),
    testAcc: n(o.testAcc),
  };
}

function cut(r: MetricsRecord): MetricsRecord {
  const out: MetricsRecord = { step: r.step };
  for (const k of CURVE_KEYS) if (k in r && k !== "step") out[k] = r[k] ?? null;
  return out;
}
