/**
 * One process per run folder: a training (`run.lock`) or an analysis (`analysis.lock`, so the page
 * can analyse a run while it trains, but two analyses never write one `analysis/`) holds an
 * exclusive `flock` on a file in the folder for as long as it lives.
 *
 * Why `flock` rather than a file created with O_EXCL: taking it is one system call that checks
 * and takes at once, and the kernel lets go of it when the process ends however it ends (exit,
 * error, Ctrl-C, `kill -9`), so there is no stale lock to detect, no process id that may have been
 * reused, and no race between two processes taking over a dead one's lock. The file stays when
 * its holder ends (deleting a lock file while another process has it open is the classic way to
 * let two processes hold it); its JSON (`{pid, host, started, command}`) says who holds it, or
 * held it last, and is what the one-line refusal quotes.
 *
 * @module
 */

import { join } from "node:path";
import { RunInputError } from "./run_error.ts";

/** The lock a training holds in its run folder. */
export const RUN_LOCK = "run.lock";
/** The lock an analysis holds in the run folder it writes `analysis/` into. */
export const ANALYSIS_LOCK = "analysis.lock";

/** Who holds a lock, as its file says. */
export interface LockHolder {
  /** The holder's process id; null when the file is being written or unreadable. */
  pid: number | null;
  /** The holder's host name (`Deno.hostname()`). */
  host: string;
  /** When it took the lock, ISO 8601. */
  started: string;
  /** What it is doing: `train`, `train --resume`, `analyze`. */
  command: string;
}

/** A lock this process holds: `release` lets it go (exiting does too). */
export interface HeldLock {
  /** The lock file. */
  readonly path: string;
  /** Lets go of the lock; the file stays (see the module's note). Idempotent. */
  release(): void;
}

/** A reader's look takes a shared lock for an instant: a taker retries this often before refusing. */
const TRIES = 5;
const RETRY_MS = 20;

/**
 * Takes the lock `file` (default `run.lock`) of `folder`, or refuses in one line (a
 * `RunInputError`) naming the process that holds it. Taking it and checking that nobody holds it
 * are one `flock` call, with no `await` between.
 *
 * @example
 * ```ts
 * import { acquireLock, lockHolder } from "./lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await acquireLock(dir, { command: "train" });
 * (await lockHolder(dir))?.pid === Deno.pid; // true
 * await acquireLock(dir, { command: "train --resume" }).catch((e) => e.message);
 * // `${dir} is in use: run.lock is held by process ${Deno.pid} (train, since ...)`
 * lock.release();
 * await lockHolder(dir); // undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function acquireLock(
  folder: string,
  options: { file?: string; command: string },
): Promise<HeldLock> {
  const path = join(folder, options.file ?? RUN_LOCK);
  for (let attempt = 1;; attempt++) {
    const file = await openLockFile(path);
    let held = false;
    try {
      held = await file.tryLock(true);
      // The path may have been replaced (`--force` removed the folder) while we waited: a lock
      // on a file no longer at `path` locks nothing anyone else will look at.
      if (held && !(await samePlace(file, path))) {
        held = false;
        attempt = 0;
        continue;
      }
      if (held) {
        const holder: LockHolder = {
          pid: Deno.pid,
          host: Deno.hostname(),
          started: new Date().toISOString(),
          command: options.command,
        };
        await file.truncate(0);
        await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
        return heldLock(path, file);
      }
    } finally {
      if (!held) file.close();
    }
    if (attempt >= TRIES) {
      throw new RunInputError(
        `${folder} is in use: ${describeHolder(path, await lockHolder(folder, options.file))}`,
      );
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/**
 * Who holds the lock `file` (default `run.lock`) of `folder`: the holder as its file says, or
 * undefined when no live process holds it (no file, or a file left by a process that ended). A
 * link in place of the file is never followed: not held. The server's run index asks this to
 * show a run trained from the command line as running.
 *
 * @example
 * ```ts
 * import { lockHolder } from "./lock.ts";
 * await lockHolder("runs/no-such-run"); // undefined
 * ```
 */
export async function lockHolder(
  folder: string,
  file: string = RUN_LOCK,
): Promise<LockHolder | undefined> {
  const path = join(folder, file);
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isFile) return undefined;
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    if (await f.tryLock(false)) {
      await f.unlock();
      return undefined;
    }
    return parseHolder(await readText(f));
  } finally {
    f.close();
  }
}

function heldLock(path: string, file: Deno.FsFile): HeldLock {
  let open = true;
  return {
    path,
    release() {
      if (open) file.close(); // closing the descriptor releases the flock
      open = false;
    },
  };
}

async function openLockFile(path: string): Promise<Deno.FsFile> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info !== undefined && !info.isFile) {
    throw new RunInputError(`${path}: not a plain file (a link or a folder); remove it`);
  }
  try {
    return await Deno.open(path, { read: true, write: true, create: true });
  } catch (e) {
    throw new RunInputError(`cannot open ${path}: ${(e as Error).message.split("\n")[0]}`, {
      cause: e,
    });
  }
}

async function samePlace(file: Deno.FsFile, path: string): Promise<boolean> {
  const [open, now] = [await file.stat(), await Deno.lstat(path).catch(() => undefined)];
  return now !== undefined && open.ino === now.ino && open.dev === now.dev;
}

/** The lock file's text: one short JSON line, so its first 4 KiB is all of it. */
async function readText(file: Deno.FsFile): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await file.read(buf);
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

function parseHolder(text: string): LockHolder {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = {}; // being written this instant: held, by someone not yet named
  }
  const o = typeof v === "object" && v !== null ? v as Record<string, unknown> : {};
  const str = (x: unknown) => (typeof x === "string" ? x.slice(0, 200) : "");
  return {
    pid: Number.isSafeInteger(o.pid) ? o.pid as number : null,
    host: str(o.host),
    started: str(o.started),
    command: str(o.command),
  };
}

function describeHolder(path: string, h: LockHolder | undefined): string {
  const name = path.split("/").at(-1);
  if (h === undefined) return `${name} was held a moment ago; try again`;
  const who = h.pid === null ? "another process" : `process ${h.pid}`;
  const where = h.host !== "" && h.host !== Deno.hostname() ? ` on host ${h.host}` : "";
  const what = [h.command, h.started && `since ${h.started}`].filter(Boolean).join(", ");
  return `${name} is held by ${who}${where}${what ? ` (${what})` : ""}`;
}
