/**
 * How this program names itself in the commands it suggests (`analyze --run runs/NAME` at the end
 * of a run): the form that works where the person typed theirs. A `deno compile` executable is
 * itself; under `deno run` it is `deno task ...` when this folder holds mechlab's `deno.json`,
 * and `deno run -A PATH/main.ts ...` from anywhere else; `deno` is `npx -y deno@VERSION` where npx
 * fetched this Deno (the README's way on a machine without Deno), since no `deno` is on the PATH.
 *
 * @module
 */

import { dirname, relative } from "node:path";
import { isCompiled, mechlabCommand, type Self } from "../engine/server/launcher.ts";

/** The tasks of `deno.json` that run a command of mechlab as `deno task NAME`. */
const TASKS = new Set(["train", "analyze", "sample", "serve", "sweep"]);

/**
 * The command line a person would type to run `mechlab ARGS` as this same program.
 *
 * @example
 * ```ts
 * import { shownCommand } from "./self_command.ts";
 * const self = {
 *   execPath: "/usr/bin/deno",
 *   standalone: false,
 *   moduleUrl: "file:///w/cli/self_command.ts",
 *   mainPath: "/w/main.ts",
 * };
 * shownCommand(["analyze", "--run", "runs/a b"], self, "/w"); // "deno task analyze --run 'runs/a b'"
 * shownCommand(["serve"], self, "/tmp"); // "deno run -A ../w/main.ts serve"
 * shownCommand(["serve"], { ...self, execPath: "/opt/mechlab", standalone: true }, "/tmp");
 * // "/opt/mechlab serve"
 * ```
 */
export function shownCommand(args: string[], self?: Self, cwd = Deno.cwd()): string {
  const line = mechlabCommand(args, self);
  if (isCompiled(self)) return [line.program, ...args].map(quote).join(" ");
  const main = line.args[2]!;
  const deno = denoCommand(line.program);
  if (dirname(main) === cwd && TASKS.has(args[0]!)) {
    return [...deno, "task", ...args].map(quote).join(" ");
  }
  return [...deno, "run", "-A", relative(cwd, main), ...args].map(quote).join(" ");
}

/** How to type this Deno: `deno`, or npx's own command where npx fetched it into its cache. */
function denoCommand(execPath: string): string[] {
  return /[/\\]_npx[/\\]/.test(execPath) ? ["npx", "-y", `deno@${Deno.version.deno}`] : ["deno"];
}

/**
 * A word as a POSIX shell reads it back: quoted when it holds anything but safe characters.
 *
 * @example
 * ```ts
 * import { quote } from "./self_command.ts";
 * quote("runs/a"); // "runs/a"
 * quote("it's"); // "'it'\\''s'"
 * ```
 */
export function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
