/**
 * What the server knows of the runs folder: each run's `config.json` and metrics lines, kept in
 * memory and brought up to date from disk on each look. A metrics file is read from where the last
 * look stopped, so the 500 ms poll and `GET /api/runs` cost a `stat` per run, not a parse of every
 * line; a file that was replaced (`--resume` rewrites it, `--force` recreates the folder) or
 * shrank is read again from the start and its `generation` goes up.
 *
 * Only plain folders with a valid run name directly under the runs folder are runs, and only plain
 * files in them are read (symbolic links are skipped), so nothing outside the runs folder is read.
 *
 * @module
 */

import { join } from "node:path";
import type { ModelConfig } from "../model/config.ts";
import { paramCount, paramLayout } from "../model/params.ts";
import { lockHolder, validateRunName } from "../runs/mod.ts";
import type { MetricsRecord, RunSummary } from "./api_types.ts";

/** A run as the index holds it. */
export interface RunEntry {
  /** The folder's name. */
  name: string;
  /** The folder's path. */
  path: string;
  /** `config.json`, parsed. */
  config: Record<string, unknown>;
  /** When `config.json` was last written: the run's start. */
  started: Date;
  /** Every complete metrics line, in file order. */
  records: MetricsRecord[];
  /** Goes up each time `records` is read again from scratch (the file was replaced). */
  generation: number;
  /** Whether a live process holds the run's `run.lock`: it is training, whoever started it. */
  training?: boolean;
}

interface Cached extends RunEntry {
  configMtime: number;
  ino: number | null;
  /** Bytes of `metrics.jsonl` consumed: up to the last newline seen. */
  offset: number;
}

/**
 * The runs under one folder, cached. Every look is serialized, so the poller and requests never
 * read the same appended bytes twice.
 *
 * @example
 * ```ts
 * import { RunIndex, summarize } from "./run_index.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/demo`);
 * await Deno.writeTextFile(`${dir}/demo/config.json`, '{"task": {"task": "modular"}, "train": {"steps": 10}}');
 * await Deno.writeTextFile(`${dir}/demo/metrics.jsonl`, '{"step": 10, "train/loss": 0.5}\n');
 * const index = new RunIndex(dir);
 * const [run] = await index.scan();
 * summarize(run!, new Set()).status; // "finished"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunIndex {
  /** The runs folder. */
  readonly root: string;
  #cache = new Map<string, Cached>();
  #queue: Promise<unknown> = Promise.resolve();

  /** An index of `root`; reads nothing until asked. */
  constructor(root: string) {
    this.root = root;
  }

  /** Every run, brought up to date, newest first. A missing runs folder holds none. */
  scan(): Promise<RunEntry[]> {
    return this.#serial(async () => {
      const names: string[] = [];
      try {
        for await (const e of Deno.readDir(this.root)) {
          if (e.isDirectory && !e.isSymlink && validName(e.name)) names.push(e.name);
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      // A sweep's member (`SWEEP/MEMBER`) is not listed here; `get` keeps it up to date.
      for (const name of this.#cache.keys()) {
        if (!name.includes("/") && !names.includes(name)) this.#cache.delete(name);
      }
      const entries: RunEntry[] = [];
      for (const name of names) {
        const entry = await this.#refresh(name);
        if (entry !== undefined) entries.push(entry);
      }
      return entries.sort((a, b) =>
        b.started.getTime() - a.started.getTime() || a.name.localeCompare(b.name)
      );
    });
  }

  /**
   * One run by a name already checked with `validateRunName` (or a sweep's member, `SWEEP/MEMBER`,
   * each part checked), up to date; undefined if absent.
   */
  get(name: string): Promise<RunEntry | undefined> {
    return this.#serial(() => this.#refresh(name));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #refresh(name: string): Promise<RunEntry | undefined> {
    const path = join(this.root, name);
    // A member's sweep folder must be a plain folder too: a link could lead out of the runs folder.
    const [sweep] = name.split("/");
    const outer = name.includes("/") ? await lstat(join(this.root, sweep!)) : undefined;
    const folder = outer === undefined || outer.isDirectory ? await lstat(path) : undefined;
    const configInfo = folder?.isDirectory ? await lstat(join(path, "config.json")) : undefined;
    if (!configInfo?.isFile) {
      this.#cache.delete(name);
      return undefined;
    }
    let entry = this.#cache.get(name);
    const configMtime = configInfo.mtime?.getTime() ?? 0;
    if (entry === undefined || entry.configMtime !== configMtime) {
      const config = await readConfig(join(path, "config.json"));
      if (config === undefined) {
        this.#cache.delete(name);
        return undefined;
      }
      const fresh: Cached = {
        name,
        path,
        config,
        started: configInfo.mtime ?? new Date(0),
        records: [],
        generation: (entry?.generation ?? 0) + 1,
        configMtime,
        ino: null,
        offset: 0,
      };
      entry = fresh;
      this.#cache.set(name, entry);
    }
    await readNewMetrics(entry);
    entry.training = (await lockHolder(path)) !== undefined;
    return entry;
  }
}

/**
 * The `GET /api/runs` row of a run: its status is "imported" for a model `mechlab import` wrote
 * (task `pretrained`: it never trains here, so no steps, and `imported` names its source and
 * parameter count), "running" if `running` holds it or a live process holds its lock (a run
 * trained from the command line), "finished" if its last metrics step is its `train.steps`,
 * "stopped" otherwise.
 *
 * @example
 * ```ts
 * import { summarize } from "./run_index.ts";
 * const entry = {
 *   name: "demo", path: "runs/demo", generation: 1, started: new Date(0),
 *   config: { preset: "smoke", task: { task: "modular" }, train: { steps: 100 } },
 *   records: [{ step: 50, "test/acc": 0.5 }],
 * };
 * summarize(entry, new Set()).status; // "stopped"
 * summarize(entry, new Set(["demo"])).status; // "running"
 * ```
 */
export function summarize(entry: RunEntry, running: ReadonlySet<string>): RunSummary {
  const c = entry.config;
  const task = isObject(c.task) && typeof c.task.task === "string" ? c.task.task : "";
  if (task === "pretrained" && isObject(c.task)) {
    const source = typeof c.task.source === "string" ? c.task.source : "";
    return {
      name: entry.name,
      task,
      preset: typeof c.preset === "string" ? c.preset : "",
      status: "imported",
      step: 0,
      steps: 0,
      metrics: {},
      started: entry.started.toISOString(),
      imported: { source, n_params: parameterCount(c.model) },
    };
  }
  const steps = isObject(c.train) && typeof c.train.steps === "number" ? c.train.steps : 0;
  const last = entry.records.at(-1);
  const step = typeof last?.step === "number" ? last.step : 0;
  const status = running.has(entry.name) || entry.training
    ? "running"
    : step === steps
    ? "finished"
    : "stopped";
  return {
    name: entry.name,
    task,
    preset: typeof c.preset === "string" ? c.preset : "",
    status,
    step,
    steps,
    metrics: last ?? {},
    started: entry.started.toISOString(),
  };
}

/** The number of weights of a config's `model` (its layout's tensors); 0 for a config it cannot lay out. */
function parameterCount(model: unknown): number {
  try {
    return paramCount(paramLayout(model as ModelConfig));
  } catch {
    return 0;
  }
}

/** Reads the metrics lines appended since the last look into `entry`. */
async function readNewMetrics(entry: Cached): Promise<void> {
  const path = join(entry.path, "metrics.jsonl");
  const info = await lstat(path);
  const size = info?.isFile ? info.size : 0;
  const ino = info?.isFile ? info.ino : null;
  if (ino !== entry.ino || size < entry.offset) {
    // Replaced or cut: read it again from the start.
    if (entry.offset > 0 || entry.records.length > 0) entry.generation++;
    entry.records = [];
    entry.offset = 0;
    entry.ino = ino;
  }
  if (size <= entry.offset) return;
  const bytes = await readRange(path, entry.offset, size);
  const end = bytes.lastIndexOf(0x0a) + 1; // a line is complete once its newline is written
  if (end === 0) return;
  const text = new TextDecoder().decode(bytes.subarray(0, end));
  for (const line of text.split("\n")) {
    const record = parseRecord(line);
    if (record !== undefined) entry.records.push(record);
  }
  entry.offset += end;
}

/** A metrics line as a record with a numeric `step`, or undefined for a line that is not one. */
function parseRecord(line: string): MetricsRecord | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined; // a damaged line costs that line, not the run
  }
  if (!isObject(value) || typeof value.step !== "number") return undefined;
  const record: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "number" || v === null) {
      Object.defineProperty(record, k, { value: v, enumerable: true, writable: true });
    }
  }
  return record as MetricsRecord; // its step is a number, checked above
}

/** Bytes `[from, to)` of a file (fewer if it is shorter now). */
async function readRange(path: string, from: number, to: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(from, Deno.SeekMode.Start);
    const out = new Uint8Array(to - from);
    let at = 0;
    while (at < out.length) {
      const n = await file.read(out.subarray(at));
      if (n === null) break;
      at += n;
    }
    return out.subarray(0, at);
  } finally {
    file.close();
  }
}

async function readConfig(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await Deno.readTextFile(path));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined; // unreadable or half-written: skipped, as the contract says
  }
}

async function lstat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch {
    return undefined;
  }
}

/**
 * A run name, and not hidden: `.NAME.new-*` is a run being created (`createRunFolder`).
 *
 * @example
 * ```ts
 * import { validName } from "./run_index.ts";
 * [validName("grok_1"), validName(".grok_1.new-3")]; // [true, false]
 * ```
 */
export function validName(name: string): boolean {
  if (name.startsWith(".")) return false;
  try {
    validateRunName(name);
    return true;
  } catch {
    return false;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
