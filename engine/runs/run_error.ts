/**
 * The one error class for a run folder that is not as it should be: missing, corrupt, held by
 * another process, or leading outside itself. It is the person's to fix, so the command line
 * prints it as a usage error (one line, exit 2) and the server answers it as a client error.
 *
 * @module
 */

/**
 * What is wrong with a run as given (no folder, no config, a field of the wrong type, a corrupt
 * checkpoint, a lock held by a live process): one line naming the file and the field.
 *
 * @example
 * ```ts
 * import { RunInputError } from "./run_error.ts";
 * new RunInputError("runs/x/config.json: model.d_vocab must be a number (got undefined)").name;
 * // "RunInputError"
 * ```
 */
export class RunInputError extends Error {
  override name = "RunInputError";
}

/**
 * `fn`'s result, with any error it throws turned into a `RunInputError` of the same first line:
 * for reading a run's files, where every failure (not found, corrupt, refused) is the input's.
 *
 * @example
 * ```ts
 * import { asRunInputError } from "./run_error.ts";
 * await asRunInputError(() => Deno.readTextFile("/no/such")).catch((e) => e.name); // "RunInputError"
 * ```
 */
export async function asRunInputError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RunInputError) throw e;
    const line = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
    throw new RunInputError(line, { cause: e });
  }
}

/**
 * A value as a one-line message quotes it: JSON, cut at 40 characters, `undefined` for a missing
 * field.
 *
 * @example
 * ```ts
 * import { shownValue } from "./run_error.ts";
 * shownValue("8"); // '"8"'
 * shownValue(undefined); // "undefined"
 * ```
 */
export function shownValue(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}

/**
 * An error's message on one line (its whitespace runs, newlines included, made one space): what a
 * one-line message quotes of a failure underneath.
 *
 * @example
 * ```ts
 * import { errorLine } from "./run_error.ts";
 * errorLine(new Error("No such file\n  (os error 2)")); // "No such file (os error 2)"
 * ```
 */
export function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
}
