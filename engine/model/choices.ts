/**
 * Config values that are one of a list (`act_fn`, `normalization_type`, `schedule`, `--device`):
 * one check and one way to say the list, so a validator, a flag and the launch form's choices
 * (`GET /api/presets`) all read the same constant.
 *
 * @module
 */

/**
 * The values as a message lists them: `relu, gelu or gelu_new` (null as `null`).
 *
 * @example
 * ```ts
 * import { listed } from "./choices.ts";
 * listed(["LN", null]); // "LN or null"
 * listed(["auto", "gpu", "cpu"]); // "auto, gpu or cpu"
 * ```
 */
export function listed(values: readonly unknown[]): string {
  const words = values.map(String);
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/**
 * Whether `value` is one of `values`, as a type guard.
 *
 * @example
 * ```ts
 * import { isOneOf } from "./choices.ts";
 * isOneOf("cosine", ["constant", "cosine"] as const); // true
 * ```
 */
export function isOneOf<T>(value: unknown, values: readonly T[]): value is T {
  return (values as readonly unknown[]).includes(value);
}

/**
 * Throws `RangeError("NAME must be A, B or C, got VALUE")` unless `value` is one of `values`.
 *
 * @example
 * ```ts
 * import { checkChoice } from "./choices.ts";
 * checkChoice("schedule", "cosine", ["constant", "cosine"]); // passes
 * try { checkChoice("schedule", "linear", ["constant", "cosine"]); } catch (e) { (e as Error).message; }
 * // "schedule must be constant or cosine, got linear"
 * ```
 */
export function checkChoice(name: string, value: unknown, values: readonly unknown[]): void {
  if (!values.includes(value)) {
    throw new RangeError(`${name} must be ${listed(values)}, got ${value}`);
  }
}
