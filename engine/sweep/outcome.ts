/**
 * What a member came to, read from its metrics lines: the first step where test accuracy reaches a
 * threshold (0.99: the grokking papers' "generalised"), or never, and its last losses. The sweep
 * prints it per member at the end; the page's sweep table (later) shows the same.
 *
 * @module
 */

/** A member's outcome. */
export interface MemberOutcome {
  /** The first evaluated step with `test/acc` >= the threshold; null if none (yet). */
  reached: number | null;
  /** The last evaluated step. */
  step: number;
  /** Its train and test loss and test accuracy (NaN where the line lacks one). */
  trainLoss: number;
  testLoss: number;
  testAcc: number;
}

/**
 * The outcome of one run's metrics lines (in step order, as `metrics.jsonl` holds them), or
 * undefined when there are none.
 *
 * @example
 * ```ts
 * import { memberOutcome } from "./outcome.ts";
 * const lines = [
 *   { step: 0, "test/acc": 0.04, "test/loss": 3.1, "train/loss": 3.1 },
 *   { step: 50, "test/acc": 0.995, "test/loss": 0.02, "train/loss": 0.001 },
 *   { step: 100, "test/acc": 1, "test/loss": 0.01, "train/loss": 0.001 },
 * ];
 * memberOutcome(lines)?.reached; // 50
 * memberOutcome(lines, 1.01)?.reached; // null: never
 * ```
 */
export function memberOutcome(
  lines: readonly Record<string, number>[],
  threshold = 0.99,
): MemberOutcome | undefined {
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const hit = lines.find((l) => (l["test/acc"] ?? -Infinity) >= threshold);
  return {
    reached: hit?.step ?? null,
    step: last.step ?? NaN,
    trainLoss: last["train/loss"] ?? NaN,
    testLoss: last["test/loss"] ?? NaN,
    testAcc: last["test/acc"] ?? NaN,
  };
}
