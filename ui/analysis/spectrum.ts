/**
 * Summaries of a head's singular-value spectrum (its QK or OV circuit): the effective rank, and
 * the log colour scale the spectra are drawn on. Pure, so tests import it.
 *
 * @module
 */

import { type SequentialScale, sequentialScale } from "./colour_scale.ts";

/**
 * The effective rank of a spectrum (Roy and Vetterli, 2007): `exp` of the entropy of the singular
 * values normalised to sum to 1. 1 when one value carries everything, n for n equal values; 0 for
 * an all-zero spectrum.
 *
 * @example
 * ```ts
 * import { effectiveRank } from "./spectrum.ts";
 * effectiveRank([5, 0, 0]); // 1
 * effectiveRank([1, 1, 1, 1]); // 4
 * ```
 */
export function effectiveRank(singular: readonly number[]): number {
  const total = singular.reduce((a, s) => a + Math.abs(s), 0);
  if (total === 0) return 0;
  let entropy = 0;
  for (const s of singular) {
    const q = Math.abs(s) / total;
    if (q > 0) entropy -= q * Math.log(q);
  }
  return Math.exp(entropy);
}

/**
 * A log scale from the largest value down `decades` decades: a trained circuit's tail falls to
 * 1e-6 of its top value and more, which would spend the colours on noise; below the floor is the
 * darkest colour.
 *
 * @example
 * ```ts
 * import { spectrumScale } from "./spectrum.ts";
 * spectrumScale("σ", [20, 0.5, 1e-9]); // { kind: "sequential", label: "σ", min: 0.02, max: 20, log: true }
 * ```
 */
export function spectrumScale(
  label: string,
  values: readonly number[],
  options: { decades?: number } = {},
): SequentialScale {
  const max = Math.max(0, ...values.filter((v) => Number.isFinite(v)));
  const min = max > 0 ? max * 10 ** -(options.decades ?? 3) : 1e-3;
  return sequentialScale(label, values, { log: true, min, max: max > 0 ? max : 1 });
}
