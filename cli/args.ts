/**
 * Flag parsing for every command: `node:util`'s `parseArgs`, with its errors turned into a
 * `UsageError` of one short line (`unknown flag '--sed'`), so a typo exits 2 without a stack.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Device } from "../engine/gpu/mod.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses `args` against `options` (strict: unknown flags and stray positionals are errors).
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * const { values } = parseFlags(["--seed", "3"], { seed: { type: "string", default: "0" } });
 * values.seed; // "3"
 * ```
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O }>> {
  try {
    return parseArgs({ args, options });
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-[^']*)'/.exec(err.message)?.[1];
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
      throw new UsageError(`unknown flag '${flag}'; see --help`);
    }
    if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(
        `unexpected argument ${/'[^']*'/.exec(err.message)?.[0] ?? ""}; see --help`,
      );
    }
    throw new UsageError(err.message.split(". ")[0]!);
  }
}

/**
 * The `--device` flag's value (default `auto`), or a `UsageError` naming it.
 *
 * @example
 * ```ts
 * import { parseDevice } from "./args.ts";
 * parseDevice(undefined); // "auto"
 * parseDevice("cpu"); // "cpu"
 * ```
 */
export function parseDevice(value: string | undefined): Device {
  const device = value ?? "auto";
  if (!["auto", "gpu", "cpu"].includes(device)) {
    throw new UsageError(`--device ${device}: expected auto, gpu or cpu`);
  }
  return device as Device;
}
