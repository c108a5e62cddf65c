/**
 * Which examples an example's activation patching may run into: a rule the server checks a
 * request's partner by and the page checks a typed one by before asking. Pure and free of the
 * engine's tensors, so the page's bundle takes it as is.
 *
 * @module
 */

/**
 * Why `partner` cannot be the corrupt input of `example`'s patching, or `null` when it can: it
 * must be an example of the task, another one, with another answer (with the same answer the
 * logit difference is 0 for both runs and the 0-to-1 scale means nothing).
 *
 * @example
 * ```ts
 * import { partnerProblem } from "./partner.ts";
 * const targets = [0, 1, 2, 1]; // the answers of examples 0..3
 * partnerProblem(targets, 1, 2); // null
 * partnerProblem(targets, 1, 3); // "partner 3 has the same answer as example 1 (1): patching needs another"
 * ```
 */
export function partnerProblem(
  targets: ArrayLike<number>,
  example: number,
  partner: number,
): string | null {
  const N = targets.length;
  if (!Number.isInteger(partner) || partner < 0 || partner >= N) {
    return `partner ${partner}: the task has ${N} examples (0 to ${N - 1})`;
  }
  if (partner === example) return `partner ${partner} is the example itself: pick another`;
  const answer = targets[example];
  if (targets[partner] === answer) {
    return `partner ${partner} has the same answer as example ${example} (${answer}): patching needs another`;
  }
  return null;
}
