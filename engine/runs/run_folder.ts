/**
 * Run folders, laid out as wandb and most training scripts do, so a run can be read without
 * mechlab:
 *
 * ```text
 * runs/NAME/
 *   config.json                      the config, verbatim, pretty JSON
 *   split.json                       which examples were trained on
 *   metrics.jsonl                    one JSON object per line, appended as training goes
 *   checkpoints/step_000000.safetensors  the initial weights, written before training starts
 *   checkpoints/step_000100.safetensors
 *   checkpoints/final.safetensors
 *   checkpoints/optimizer.safetensors    AdamW's state at the last checkpoint, for --resume
 *   run.lock, analysis.lock          who trains it, who analyses it (lock.ts)
 * ```
 *
 * Every file is replaced atomically (temporary file, then rename) and every metrics line is on
 * disk before `appendMetrics` returns, so a crash leaves at worst a torn last line, which readers
 * skip and the next append removes. A folder gets its name only once its first files are written
 * (`createRunFolder` in run_create.ts).
 *
 * @module
 */

import { join } from "node:path";
import { checkConfined } from "./confine.ts";
import type { HeldLock } from "./lock.ts";
import { errorLine, RunInputError, shownValue } from "./run_error.ts";
import { writeFileAtomic } from "./safetensors.ts";

/** A checkpoint on disk: its step and its path. */
export interface CheckpointFile {
  step: number;
  path: string;
}

const MAX_NAME = 200;
const NEWLINE = 0x0a;
const CHECKPOINT = /^step_(\d{6,})\.safetensors$/;

/**
 * Checks a run name: letters, digits, `.`, `_` and `-`, at most 200 characters, not `.` and
 * without `..`, so the name is one folder inside the runs folder, never a path out of it. Throws a
 * one-line `RangeError` naming the problem.
 *
 * @example
 * ```ts
 * import { validateRunName } from "./run_folder.ts";
 * validateRunName("grok_p113-seed0"); // fine
 * try { validateRunName("a/b"); } catch (e) { (e as Error).message; }
 * // 'run name "a/b": use only letters, digits, ".", "_" and "-" (found "/")'
 * ```
 */
export function validateRunName(name: string): void {
  const what = `run name ${quoteShort(name)}`;
  if (typeof name !== "string" || name.length === 0) throw new RangeError("run name is empty");
  if (name.length > MAX_NAME) {
    throw new RangeError(`${what}: ${name.length} characters, more than ${MAX_NAME}`);
  }
  const bad = name.match(/[^A-Za-z0-9._-]/u);
  if (bad) {
    throw new RangeError(
      `${what}: use only letters, digits, ".", "_" and "-" (found ${JSON.stringify(bad[0])})`,
    );
  }
  if (name === ".") throw new RangeError(`${what}: "." is the runs folder itself`);
  if (name.includes("..")) throw new RangeError(`${what}: must not contain ".."`);
}

/**
 * Opens an existing run folder (for `--resume` and for analysis): it must be a folder holding a
 * `config.json`, and nothing in it may be a link leading outside it (`checkConfined`). Otherwise a
 * one-line `RunInputError` naming the path.
 *
 * @example
 * ```ts
 * import { openRunFolder } from "./run_folder.ts";
 * await openRunFolder("runs/no-such-run").catch((e) => e.message);
 * // "run folder runs/no-such-run not found"
 * ```
 */
export async function openRunFolder(path: string): Promise<RunFolder> {
  const info = await Deno.stat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) throw new RunInputError(`run folder ${path} not found`);
    throw new RunInputError(`cannot open run folder ${path}: ${errorLine(e)}`, { cause: e });
  });
  if (!info.isDirectory) throw new RunInputError(`run folder ${path} is not a folder`);
  if (!(await exists(join(path, "config.json")))) {
    throw new RunInputError(`run folder ${path} has no config.json; is it a mechlab run?`);
  }
  await checkConfined(path);
  return new RunFolder(path);
}

/**
 * One run's folder: its JSON files, its metrics log and its checkpoints. Making one touches
 * nothing on disk; `createRunFolder` and `openRunFolder` are the checked ways to get one.
 *
 * @example
 * ```ts
 * import { createRunFolder } from "./run_create.ts";
 * const dir = await Deno.makeTempDir();
 * const run = await createRunFolder(dir, "demo", {});
 * await run.writeJson("config.json", { p: 113 });
 * await run.appendMetrics({ step: 0, train_loss: 4.73 });
 * await run.readMetrics(); // [{ step: 0, train_loss: 4.73 }]
 * run.checkpointPath(100); // `${dir}/demo/checkpoints/step_000100.safetensors`
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunFolder {
  /** The folder, e.g. `runs/grok_p113`. */
  readonly path: string;
  /** Its `run.lock`, when this process holds it (`createRunFolder`'s `lock` option). */
  readonly lock: HeldLock | undefined;

  /** Wraps a folder path; checks nothing (see `openRunFolder`). */
  constructor(path: string, lock?: HeldLock) {
    this.path = path;
    this.lock = lock;
  }

  /** Lets go of the folder's lock, if this process holds it. */
  release(): void {
    this.lock?.release();
  }

  /** Where the metrics log lives: `metrics.jsonl`. */
  get metricsPath(): string {
    return join(this.path, "metrics.jsonl");
  }

  /** The path of a file directly in the run folder; `name` must be a plain file name. */
  file(name: string): string {
    if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
      throw new RangeError(`run file name ${JSON.stringify(name)}: must be a plain file name`);
    }
    return join(this.path, name);
  }

  /** Writes `value` as pretty JSON to `name`, atomically. */
  async writeJson(name: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value, null, 2);
    if (text === undefined) throw new RangeError(`${this.file(name)}: value is not JSON`);
    await writeFileAtomic(this.file(name), new TextEncoder().encode(text + "\n"));
  }

  /** Reads `name` as JSON; missing or invalid is a one-line error naming the file. */
  async readJson<T = unknown>(name: string): Promise<T> {
    const path = this.file(name);
    const text = await Deno.readTextFile(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) throw new RunInputError(`${path} not found`);
      throw new RunInputError(`cannot read ${path}: ${errorLine(e)}`, { cause: e });
    });
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new RunInputError(`${path}: invalid JSON (${errorLine(e)})`, { cause: e });
    }
  }

  /**
   * Appends one record as a JSON line and flushes it to disk before returning. Non-finite values
   * (a diverged loss) are written as `null`, since JSON has no NaN, and read back as NaN. A torn
   * last line left by a crash is cut off first, so it cannot glue itself to this record.
   */
  async appendMetrics(record: Record<string, number>): Promise<void> {
    const line = new TextEncoder().encode(metricsLine(record));
    const file = await Deno.open(this.metricsPath, { read: true, append: true, create: true });
    try {
      await cutTornTail(file);
      let at = 0;
      while (at < line.length) at += await file.write(line.subarray(at));
      await file.syncData();
    } finally {
      file.close();
    }
  }

  /**
   * Every complete record in `metrics.jsonl`, in order (none if the file is missing). A line is
   * complete once its newline is written: an unterminated last line is a torn write and skipped.
   */
  async readMetrics(): Promise<Record<string, number>[]> {
    return (await this.#completeLines()).map((l) => l.record);
  }

  /**
   * For `--resume` from `step`: drops every record with a `step` after it (they will be logged
   * again) and any torn last line, by rewriting the file atomically.
   */
  async truncateMetricsAfter(step: number): Promise<void> {
    if (!Number.isFinite(step)) throw new RangeError(`truncateMetricsAfter: step ${step}`);
    if (!(await exists(this.metricsPath))) return;
    const kept = (await this.#completeLines()).filter((l) =>
      !((l.record.step ?? -Infinity) > step)
    );
    const text = kept.map((l) => l.text + "\n").join("");
    await writeFileAtomic(this.metricsPath, new TextEncoder().encode(text));
  }

  /** `checkpoints/step_NNNNNN.safetensors`: six digits, zero padded, more if the step needs. */
  checkpointPath(step: number): string {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`checkpoint step ${step}: must be a non-negative integer`);
    }
    return join(this.path, "checkpoints", checkpointName(step));
  }

  /** `checkpoints/final.safetensors`: the weights at the end of training. */
  finalPath(): string {
    return join(this.path, "checkpoints", "final.safetensors");
  }

  /** The step checkpoints present, by step ascending (`final` is not among them). */
  async listCheckpoints(): Promise<CheckpointFile[]> {
    const out: CheckpointFile[] = [];
    const dir = join(this.path, "checkpoints");
    try {
      for await (const entry of Deno.readDir(dir)) {
        const m = entry.isFile ? CHECKPOINT.exec(entry.name) : null;
        if (!m) continue;
        const step = Number(m[1]);
        // Only the canonical spelling, so one step never lists twice (step_0000001 vs step_000001).
        if (Number.isSafeInteger(step) && checkpointName(step) === entry.name) {
          out.push({ step, path: join(dir, entry.name) });
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort((a, b) => a.step - b.step);
  }

  async #completeLines(): Promise<{ text: string; record: Record<string, number> }[]> {
    const path = this.metricsPath;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw new RunInputError(`cannot read ${path}: ${errorLine(e)}`, { cause: e });
    }
    const lines = text.split("\n");
    lines.pop(); // after the last newline: "" or a torn write
    const out: { text: string; record: Record<string, number> }[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      out.push({ text: line, record: parseMetricsLine(line, `${path}:${i + 1}`) });
    });
    return out;
  }
}

function checkpointName(step: number): string {
  return `step_${String(step).padStart(6, "0")}.safetensors`;
}

function metricsLine(record: Record<string, number>): string {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new RangeError("metrics record: must be an object of numbers");
  }
  for (const [k, v] of Object.entries(record)) {
    if (typeof v !== "number") {
      throw new RangeError(`metrics record ${JSON.stringify(k)}: ${typeof v}, not a number`);
    }
  }
  // JSON.stringify writes NaN and ±Infinity as null itself; readers map null back to NaN.
  return JSON.stringify(record) + "\n";
}

function parseMetricsLine(line: string, where: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new RunInputError(`${where}: invalid JSON (${errorLine(e)})`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RunInputError(`${where}: not a JSON object`);
  }
  const record: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v !== "number") {
      throw new RunInputError(`${where}: ${k} must be a number or null (got ${shownValue(v)})`);
    }
    Object.defineProperty(record, k, { value: v ?? NaN, enumerable: true, writable: true });
  }
  // Every line is one evaluation: resuming cuts the log by step, and curves are drawn against it.
  if (!Number.isSafeInteger(record.step) || record.step! < 0) {
    throw new RunInputError(
      `${where}: step must be a whole number (got ${
        shownValue((value as Record<string, unknown>).step)
      })`,
    );
  }
  return record;
}

/** Cuts an unterminated last line (a write torn by a crash) off the open metrics file. */
async function cutTornTail(file: Deno.FsFile): Promise<void> {
  const size = (await file.stat()).size;
  if (size === 0) return;
  const last = new Uint8Array(1);
  await file.seek(size - 1, Deno.SeekMode.Start);
  await file.read(last);
  if (last[0] === NEWLINE) return;
  // Rare (only after a crash), so reading the whole file is fine.
  const all = new Uint8Array(size);
  await file.seek(0, Deno.SeekMode.Start);
  let at = 0;
  while (at < size) {
    const n = await file.read(all.subarray(at));
    if (n === null) break;
    at += n;
  }
  await file.truncate(all.subarray(0, at).lastIndexOf(NEWLINE) + 1);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function quoteShort(name: unknown): string {
  const s = JSON.stringify(
    typeof name === "string" && name.length > 40 ? name.slice(0, 40) + "…" : name,
  );
  return s ?? String(name);
}

/**
 * `base`, or else `base-2`, `base-3`, ...: the first run name not taken under `parent`. A default
 * name is made free this way (as wandb names runs), so running the same command twice keeps both
 * runs; a name the user gives is never changed (an existing one needs `--force`). Names in
 * `reserved` count as taken too: runs just launched whose folders are not made yet.
 *
 * @example
 * ```ts
 * import { freeRunName } from "./run_folder.ts";
 * const dir = await Deno.makeTempDir();
 * await freeRunName(dir, "demo"); // "demo"
 * await Deno.mkdir(`${dir}/demo`);
 * await freeRunName(dir, "demo"); // "demo-2"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function freeRunName(
  parent: string,
  base: string,
  reserved: ReadonlySet<string> = new Set(),
): Promise<string> {
  for (let i = 1;; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (reserved.has(name)) continue;
    try {
      await Deno.lstat(join(parent, name));
    } catch {
      // Not there, or the parent is unusable: createRunFolder says which, in one line.
      return name;
    }
  }
}
