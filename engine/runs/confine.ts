/**
 * Nothing outside a run folder is read or written through it: a link inside it (a `checkpoints`
 * or `analysis` folder, a checkpoint, `config.json`) that leads outside would let `inspect` read
 * weights from elsewhere and `analyze` write files elsewhere. Every reader and writer of an
 * existing run opens it with `openRunFolder`, which checks it here; links that stay inside the
 * folder are fine (a run copied with `cp -as` within it).
 *
 * A check at open, not at each file: it guards against a folder that arrives with links in it (a
 * downloaded run), not against a process that already may write into the folder, which could
 * replace the weights themselves.
 *
 * @module
 */

import { join, relative, resolve, sep } from "node:path";
import { RunInputError } from "./run_error.ts";

/** How deep the check walks: a run folder is two levels (`checkpoints/`, `analysis/`). */
const MAX_DEPTH = 4;

/**
 * Throws a one-line `RunInputError` if any link under `folder` (walked without following links)
 * resolves outside `root` (default: the folder itself), or leads nowhere.
 *
 * @example
 * ```ts
 * import { checkConfined } from "./confine.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.symlink("/etc", `${dir}/analysis`);
 * await checkConfined(dir).catch((e) => e.message);
 * // `run folder ${dir}: analysis is a link to /etc, outside the run folder`
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkConfined(folder: string, root: string = folder): Promise<void> {
  const realRoot = await Deno.realPath(root);
  await walk(folder, "", 0);

  async function walk(dir: string, rel: string, depth: number): Promise<void> {
    for await (const entry of Deno.readDir(join(dir, rel))) {
      const at = rel === "" ? entry.name : join(rel, entry.name);
      if (entry.isSymlink) {
        const target = await Deno.realPath(join(dir, at)).catch(() => undefined);
        if (target === undefined) {
          throw new RunInputError(`run folder ${folder}: ${at} is a link that leads nowhere`);
        }
        if (!inside(realRoot, target)) {
          throw new RunInputError(
            `run folder ${folder}: ${at} is a link to ${target}, outside the run folder`,
          );
        }
      } else if (entry.isDirectory && depth < MAX_DEPTH) {
        await walk(dir, at, depth + 1);
      }
    }
  }
}

/**
 * Whether the real path `path` is `root` or under it (both real, absolute).
 *
 * @example
 * ```ts
 * import { inside } from "./confine.ts";
 * inside("/runs/a", "/runs/a/checkpoints"); // true
 * inside("/runs/a", "/runs/ab"); // false
 * ```
 */
export function inside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}
