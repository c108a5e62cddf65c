/**
 * The `modular` task's Fourier picture at one checkpoint (`ModularReport`) and the progress
 * measures it contributes to `ProgressRow`: everything Nanda et al. (2023) read off a model of
 * modular addition, from one full-table forward pass.
 *
 * Shape letters: p the modulus, N = p² examples (`i = x · p + y`), M d_mlp.
 *
 * @module
 */

import { slice, type Tensor } from "../tensor/mod.ts";
import type { ModularReport, ProgressRow } from "./report.ts";
import { embeddingCircles, embedFourierNorms } from "./embed_fourier.ts";
import {
  keyFrequencies,
  neuronClusters,
  type NeuronFrequencies,
  neuronFrequencies,
} from "./neuron_freqs.ts";
import { excludedLoss, restrictedLoss } from "./restricted_loss.ts";
import { gini } from "./scalars.ts";

/** What `modularMeasures` reads: one full-table forward pass of a `modular` model. */
export interface ModularInputs {
  /** The modulus. */
  p: number;
  /** `[N, p]`: the logits at the last position. */
  logits: Tensor;
  /** `[N, M]`: `blocks.0.mlp.hook_post` at the last position. */
  post: Tensor;
  /** The model's weights by TransformerLens name (`embed.W_E` is read). */
  weights: Map<string, Tensor>;
  /** `[N]`: each example's answer. */
  targets: Int32Array;
  /** The train examples' indices: the restricted and excluded losses are means over them. */
  train: Int32Array;
}

/** Options of `modularMeasures`. */
export interface ModularReportOptions {
  /** How many neurons' activation grids to ship (default 6). */
  neurons?: number;
  /**
   * The frequencies to keep or remove (`loss_freqs`) instead of this checkpoint's own. The paper
   * tracks restricted and excluded loss over training with the *final* model's key frequencies
   * (earlier checkpoints have no clusters yet), so pass the last checkpoint's here for its plot.
   */
  key_freqs?: readonly number[];
}

/** What `modularMeasures` returns: the report and the `ProgressRow` fields it determines. */
export interface ModularMeasures {
  report: ModularReport;
  progress: Required<
    Pick<
      ProgressRow,
      "restricted_loss" | "excluded_loss" | "gini_embed" | "gini_neurons" | "key_freqs"
    >
  >;
}

/**
 * The whole `ModularReport` and the progress measures, computed once:
 * - `embed_fourier_norms`: `embedFourierNorms`; `neuron_freq`, `neuron_frac`: `neuronFrequencies`
 *   (the paper's `calculate_key_freqs` per neuron); `clusters`: `neuronClusters` (fraction > 0.85);
 * - `key_freqs`: `keyFrequencies` (clusters of at least 1% of the neurons);
 * - `loss_freqs`: `options.key_freqs` (the final checkpoint's), else `key_freqs`;
 * - `restricted_loss`, `excluded_loss` over the train set with all of `loss_freqs`, and
 *   `per_freq` the same with each one alone kept / alone removed;
 * - `circles`: `embeddingCircles` of each of `loss_freqs`;
 * - `neurons`: `options.neurons` neurons (default 6), taken in turn from each of `loss_freqs`'s
 *   cluster, best explained first, then the best explained of the rest; `acts` is the neuron's
 *   column of `post` in example order.
 *
 * `progress.gini_embed` is the Gini coefficient of `embed_fourier_norms` without the constant
 * (entry 0: the mean embedding, not a wave); `gini_neurons` of `NeuronFrequencies.norms` likewise.
 *
 * @example
 * ```ts
 * import { modularMeasures } from "./modular_report.ts";
 * import { tensor, zeros } from "../tensor/mod.ts";
 * const p = 3;
 * const targets = Int32Array.from({ length: 9 }, (_, i) => (Math.floor(i / p) + i) % p);
 * const { report, progress } = modularMeasures({
 *   p, logits: zeros([9, 3]), post: tensor([0, 1, 0, 1, 2, 1, 0, 1, 0], [9, 1]),
 *   weights: new Map([["embed.W_E", zeros([4, 2])]]), targets, train: Int32Array.of(0, 4, 8),
 * });
 * report.neuron_freq; // [1]: the only wave there is for p = 3
 * progress.restricted_loss; // ln 3 ≈ 1.0986: zero logits
 * ```
 */
export function modularMeasures(
  inputs: ModularInputs,
  options: ModularReportOptions = {},
): ModularMeasures {
  const { p, logits, post, weights, targets, train } = inputs;
  const embed_fourier_norms = embedFourierNorms(weights, p);
  const neurons = neuronFrequencies(post, p);
  const key_freqs = keyFrequencies(neurons).sort((a, b) => a - b);
  const loss_freqs = [...(options.key_freqs ?? key_freqs)].sort((a, b) => a - b);
  const lossOptions = { p, targets, examples: train };
  const restricted_loss = restrictedLoss(logits, { ...lossOptions, freqs: loss_freqs });
  const excluded_loss = excludedLoss(logits, { ...lossOptions, freqs: loss_freqs });
  const report: ModularReport = {
    embed_fourier_norms,
    key_freqs,
    loss_freqs,
    neuron_freq: neurons.freq,
    neuron_frac: neurons.frac,
    clusters: neuronClusters(neurons),
    restricted_loss,
    excluded_loss,
    per_freq: loss_freqs.map((freq) => ({
      freq,
      restricted_loss: restrictedLoss(logits, { ...lossOptions, freqs: [freq] }),
      excluded_loss: excludedLoss(logits, { ...lossOptions, freqs: [freq] }),
    })),
    circles: embeddingCircles(weights, p, loss_freqs),
    neurons: pickNeurons(neurons, loss_freqs, options.neurons ?? 6).map((n) => ({
      neuron: n,
      freq: neurons.freq[n]!,
      acts: Array.from(slice(post, [null, n]).data), // [N]: column n of post
    })),
  };
  const progress = {
    restricted_loss,
    excluded_loss,
    gini_embed: gini(embed_fourier_norms.slice(1)),
    gini_neurons: gini(neurons.norms.slice(1)),
    key_freqs,
  };
  return { report, progress };
}

/**
 * Up to `count` neurons: round after round, the next best explained neuron of each key
 * frequency's cluster (neurons assigned to it, by fraction explained, descending), then the best
 * explained of the others, so every key frequency is shown before any gets a second neuron.
 */
function pickNeurons(
  neurons: NeuronFrequencies,
  keyFreqs: readonly number[],
  count: number,
): number[] {
  const byFrac = neurons.frac
    .map((_, n) => n)
    .sort((a, b) => neurons.frac[b]! - neurons.frac[a]! || a - b);
  const queues = keyFreqs.map((k) => byFrac.filter((n) => neurons.freq[n] === k));
  const picked: number[] = [];
  for (let round = 0; picked.length < count && queues.some((q) => round < q.length); round++) {
    for (const q of queues) {
      if (round < q.length && picked.length < count) picked.push(q[round]!);
    }
  }
  for (const n of byFrac) {
    if (picked.length >= count) break;
    if (!picked.includes(n)) picked.push(n);
  }
  return picked;
}
