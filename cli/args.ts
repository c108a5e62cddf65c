/**
 * Flag parsing for every command: `node:util`'s `parseArgs`, with its errors turned into a
 * `UsageError` of one short line (`unknown flag '--sed'`), so a typo exits 2 without a stack.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Device, DEVICES } from "../engine/gpu/mod.ts";
import { isOneOf, listed } from "../engine/model/choices.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses `args` against `options` (strict: unknown flags and stray positionals are errors). A
 * negative number after a flag that takes a value is that value (`--k1 -1`), where `parseArgs`
 * alone would read it as a flag and call the pair ambiguous.
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
    return parseArgs({ args: joinNegativeValues(args, options), options });
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

/** `--flag -5` as `--flag=-5` when `flag` takes a value; everything after `--` is left alone. */
function joinNegativeValues(args: string[], options: ParseArgsConfig["options"]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [arg, next] = [args[i]!, args[i + 1]];
    if (arg === "--") return out.concat(args.slice(i));
    const takesValue = /^--[^=]+$/.test(arg) && options?.[arg.slice(2)]?.type === "string";
    if (takesValue && next !== undefined && /^-(\d|\.\d|Infinity$)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * A flag's value as a decimal number (`--lr 1e-3`), or a `UsageError` naming the flag. Unlike
 * `Number`, no hexadecimal (`0x10`), no blanks, no empty string; `int` asks for an integer.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./args.ts";
 * parseNumber("--port", "7310", "int"); // 7310
 * parseNumber("--lr", "1e-3", "number"); // 0.001
 * try { parseNumber("--port", "0x10", "int"); } catch (e) { (e as Error).message; } // "--port 0x10: not an integer"
 * ```
 */
export function parseNumber(flag: string, raw: string, kind: "int" | "number"): number {
  const decimal = kind === "int" ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
  const n = Number(raw);
  if (!decimal.test(raw) || !Number.isFinite(n) || (kind === "int" && !Number.isSafeInteger(n))) {
    throw new UsageError(`${flag} ${raw}: not ${kind === "int" ? "an integer" : "a number"}`);
  }
  return n;
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
  if (!isOneOf(device, DEVICES)) {
    throw new UsageError(`--device ${device}: expected ${listed(DEVICES)}`);
  }
  return device;
}
