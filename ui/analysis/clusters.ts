/**
 * The arithmetic of the clusters view (`modular`): the neurons per frequency as bars (the report's
 * clusters: neurons whose frequency explains more than 0.85 of their variance), how many of the
 * neurons are in some cluster, and the per-frequency restricted and excluded losses as rows beside
 * the train loss, on one log colour scale. Pure, so tests import it.
 *
 * @module
 */

import type { ModularReport } from "../types.ts";
import { type SequentialScale, sequentialScale } from "./colour_scale.ts";
import type { Bars } from "./geometry.ts";

/** The cluster bars: one per frequency 1..(p-1)/2, its cluster's size (0 for none). */
export interface ClusterBars extends Bars {
  /** Each bar's hover text: the size and the mean fraction explained. */
  titles: string[];
  /** The labels of this step's key frequencies, drawn highlighted. */
  highlight: Set<string>;
  /** Neurons in some cluster, of `neurons` (d_mlp). */
  clustered: number;
  neurons: number;
}

/**
 * The neurons per frequency: a bar per frequency k = 1..(p-1)/2 (the constant has no cluster), as
 * tall as its cluster, the mean fraction explained in its hover text, and the share of all neurons
 * that some cluster holds (a grokked model's MLP is nearly all clusters of its key frequencies).
 *
 * @example
 * ```ts
 * import { clusterBars } from "./clusters.ts";
 * const b = clusterBars({
 *   embed_fourier_norms: [0, 1, 1, 1], key_freqs: [2], neuron_freq: [2, 2, 3, 2],
 *   clusters: [{ freq: 2, size: 2, frac_explained: 0.95 }],
 * });
 * b.values; // [0, 2, 0]
 * b.titles[1]; // "k = 2: 2 neurons, mean 95.0% explained"
 * b.clustered / b.neurons; // 0.5
 * ```
 */
export function clusterBars(
  modular: Pick<ModularReport, "embed_fourier_norms" | "key_freqs" | "neuron_freq" | "clusters">,
): ClusterBars {
  // The spectrum has (p-1)/2 + 1 entries, the constant first: the same frequencies as the Fourier view.
  const freqs = modular.embed_fourier_norms.map((_, k) => k).slice(1);
  const byFreq = new Map(modular.clusters.map((c) => [c.freq, c]));
  const titles = freqs.map((k) => {
    const c = byFreq.get(k);
    if (c === undefined) return `k = ${k}: no cluster`;
    const mean = (c.frac_explained * 100).toFixed(1);
    return `k = ${k}: ${c.size} neuron${c.size === 1 ? "" : "s"}, mean ${mean}% explained`;
  });
  return {
    labels: freqs.map(String),
    values: freqs.map((k) => byFreq.get(k)?.size ?? 0),
    titles,
    highlight: new Set(modular.key_freqs.map(String)),
    clustered: modular.clusters.reduce((s, c) => s + c.size, 0),
    neurons: modular.neuron_freq.length,
  };
}

/** One row of the loss table: a frequency of `loss_freqs`, or all of them together. */
export interface LossRow {
  label: string;
  /** Train loss with only this frequency (or these) kept in the logits. */
  restricted: number;
  /** Train loss with this frequency (or these) removed from the logits. */
  excluded: number;
  /** Whether it is one of this step's key frequencies (`loss_freqs` are the final step's). */
  key: boolean;
}

/**
 * The restricted and excluded loss of each of `loss_freqs` alone, then of all of them together
 * (the report's own pair), and one log scale over them and the train loss, so a frequency whose
 * removal lifts the loss far above the train loss reads as one that carries the answer.
 *
 * @example
 * ```ts
 * import { lossRows } from "./clusters.ts";
 * const { rows, scale } = lossRows({
 *   key_freqs: [4], loss_freqs: [4, 9], restricted_loss: 0.01, excluded_loss: 5,
 *   per_freq: [
 *     { freq: 4, restricted_loss: 1.2, excluded_loss: 2 },
 *     { freq: 9, restricted_loss: 2.5, excluded_loss: 0.1 },
 *   ],
 * }, 0.02);
 * rows.map((r) => r.label); // ["k = 4", "k = 9", "all 2 together"]
 * [scale.min, scale.max]; // [0.01, 5]
 * ```
 */
export function lossRows(
  modular: Pick<
    ModularReport,
    "key_freqs" | "loss_freqs" | "restricted_loss" | "excluded_loss" | "per_freq"
  >,
  trainLoss: number | undefined,
): { rows: LossRow[]; scale: SequentialScale } {
  const keys = new Set(modular.key_freqs);
  const rows: LossRow[] = modular.per_freq.map((f) => ({
    label: `k = ${f.freq}`,
    restricted: f.restricted_loss,
    excluded: f.excluded_loss,
    key: keys.has(f.freq),
  }));
  rows.push({
    label: `all ${modular.loss_freqs.length} together`,
    restricted: modular.restricted_loss,
    excluded: modular.excluded_loss,
    key: false,
  });
  const values = rows.flatMap((r) => [r.restricted, r.excluded]);
  if (trainLoss !== undefined) values.push(trainLoss);
  // Log: a grokked model's train loss is decades below the loss of a frequency removed.
  return { rows, scale: sequentialScale("train loss", values, { log: true }) };
}
