/**
 * How the command line fails: a `UsageError` is bad input a person can fix, printed as one line
 * with exit code 2; anything else is a bug or an environment failure, printed as one line with
 * exit code 1 (the stack only with `MECHLAB_DEBUG=1`). Never a stack trace for bad input.
 *
 * @module
 */

/** Bad input: an unknown command or flag, a value out of range. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs `main`, turning any error into one line on stderr and a non-zero exit code.
 *
 * @example
 * ```ts
 * import { runCli, UsageError } from "./errors.ts";
 * await runCli(() => {
 *   throw new UsageError("unknown command 'trian'");
 * }); // prints "mechlab: unknown command 'trian'" and exits 2
 * ```
 */
export async function runCli(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    console.error(`mechlab: ${err.message.split("\n")[0]}`);
    if (Deno.env.get("MECHLAB_DEBUG") === "1") console.error(err.stack);
    Deno.exit(err instanceof UsageError ? 2 : 1);
  }
}
