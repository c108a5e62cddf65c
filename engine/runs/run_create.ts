/**
 * Making a run folder so that a crash at any moment leaves either nothing under the run's name or
 * a folder `--resume` can continue: the folder is filled under a hidden temporary name
 * (`.NAME.new-PID-XXXX`: config, split, the step-0 checkpoint and optimizer state) and renamed to
 * `NAME` only then, in one step. A process killed before the rename leaves a hidden folder that
 * blocks nothing and that the next run of that name removes.
 *
 * @module
 */

import { join } from "node:path";
import { acquireLock, type HeldLock, lockHolder, RUN_LOCK } from "./lock.ts";
import { errorLine, RunInputError } from "./run_error.ts";
import { RunFolder, validateRunName } from "./run_folder.ts";

/** Options of `createRunFolder`. */
export interface CreateRunOptions {
  /** Remove an existing run folder of the same name instead of refusing (`--force`). */
  force?: boolean;
  /** Writes the folder's first files, before it gets its name (see the module's note). */
  fill?: (folder: RunFolder) => Promise<void>;
  /**
   * Keep the folder's `run.lock` and record this command in it: the returned folder's `lock`,
   * released by `release()`. Without it the lock is only held while the folder is made.
   */
  lock?: string;
}

/**
 * Creates `parent/name/` (and `parent`, if needed) with `checkpoints/` and whatever `fill`
 * writes, atomically (see the module's note). An existing run of that name is an error unless
 * `force`, which removes it first, unless a live process holds its lock; a parent that cannot be
 * created or written is a one-line error naming it. All errors are `RunInputError`s.
 *
 * @example
 * ```ts
 * import { createRunFolder } from "./run_create.ts";
 * const dir = await Deno.makeTempDir();
 * const run = await createRunFolder(`${dir}/runs`, "demo", {
 *   fill: (f) => f.writeJson("config.json", { p: 113 }),
 * });
 * run.path; // `${dir}/runs/demo`, holding config.json and checkpoints/
 * await createRunFolder(`${dir}/runs`, "demo", {}).catch((e) => e.message);
 * // `run folder ${dir}/runs/demo exists; pass --force to overwrite`
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createRunFolder(
  parent: string,
  name: string,
  options: CreateRunOptions = {},
): Promise<RunFolder> {
  try {
    validateRunName(name);
  } catch (e) {
    throw new RunInputError((e as Error).message);
  }
  await ensureWritableFolder(parent);
  const path = join(parent, name);
  const exists = () => new RunInputError(`run folder ${path} exists; pass --force to overwrite`);
  if (!options.force && await lstat(path)) throw exists(); // before any work: refused at once
  await removeAbandoned(parent, name);
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
  const temp = join(parent, `.${name}.new-${Deno.pid}-${suffix}`);
  let lock: HeldLock | undefined;
  let filling = false;
  try {
    await Deno.mkdir(temp);
    lock = await acquireLock(temp, { command: options.lock ?? "create" });
    await Deno.mkdir(join(temp, "checkpoints"));
    filling = true;
    await options.fill?.(new RunFolder(temp));
    filling = false;
    await replace(temp, path, options.force === true, exists);
  } catch (e) {
    lock?.release();
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    if (e instanceof RunInputError || filling) throw e; // fill's errors are its own to word
    throw new RunInputError(`cannot create run folder ${path}: ${errorLine(e)}`, { cause: e });
  }
  if (options.lock === undefined) {
    lock.release();
    return new RunFolder(path);
  }
  return new RunFolder(path, lock);
}

/**
 * Renames the filled `temp` to `path`; with `force`, first removes what is at `path`, holding its
 * lock meanwhile so that no training of it is removed from under it.
 */
async function replace(
  temp: string,
  path: string,
  force: boolean,
  exists: () => Error,
): Promise<void> {
  const old = await lstat(path);
  if (old && !force) throw exists();
  let held: HeldLock | undefined;
  try {
    if (old?.isDirectory) held = await acquireLock(path, { command: "train --force" });
    if (old) await Deno.remove(path, { recursive: true }); // a link: the link, not its target
    await Deno.rename(temp, path);
  } catch (e) {
    // A folder of this name appeared since the check (another start of the same name).
    if (!(e instanceof RunInputError) && await lstat(path)) throw exists();
    throw e;
  } finally {
    held?.release();
  }
}

/** Hidden `.NAME.new-*` folders left by a start killed before its rename, whose lock is free. */
async function removeAbandoned(parent: string, name: string): Promise<void> {
  const prefix = `.${name}.new-`;
  for await (const entry of Deno.readDir(parent)) {
    if (!entry.isDirectory || !entry.name.startsWith(prefix)) continue;
    const dir = join(parent, entry.name);
    // No lock file yet: a start making it this instant, not an abandoned one.
    if (!(await lstat(join(dir, RUN_LOCK)))?.isFile || await lockHolder(dir)) continue;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function ensureWritableFolder(parent: string): Promise<void> {
  try {
    await Deno.mkdir(parent, { recursive: true });
  } catch (e) {
    throw new RunInputError(`cannot create runs folder ${parent}: ${errorLine(e)}`, { cause: e });
  }
  // mkdir succeeds on a read-only folder that exists: only a write shows it is writable.
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
  const probe = join(parent, `.mechlab-write-probe-${Deno.pid}-${suffix}`);
  try {
    await Deno.writeFile(probe, new Uint8Array(), { createNew: true });
    await Deno.remove(probe);
  } catch (e) {
    throw new RunInputError(`runs folder ${parent} is not writable: ${errorLine(e)}`, {
      cause: e,
    });
  }
}

async function lstat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
