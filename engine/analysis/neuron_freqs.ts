/**
 * MLP neurons by frequency, and the key frequencies they reveal (Nanda et al. 2023, §4.2 and the
 * released code's `calculate_key_freqs`): after grokking, each neuron's activation over the p × p
 * grid of inputs (x, y) is almost entirely made of one frequency's 2D Fourier terms, and the
 * neurons form a few clusters, one per key frequency.
 *
 * Shape letters: p the modulus, M d_mlp. Example `i` is `(x, y) = (⌊i/p⌋, i mod p)`.
 *
 * @module
 */

import { fourier2d, Tensor } from "../tensor/mod.ts";
import { frequencyCount } from "./frequencies.ts";

/** What `neuronFrequencies` returns. */
export interface NeuronFrequencies {
  /** `[M]`: the frequency whose terms explain most of each neuron's variance (0: no variance). */
  freq: number[];
  /** `[M]`: the fraction of the neuron's variance those terms explain (0 with no variance). */
  frac: number[];
  /**
   * `[⌊p/2⌋ + 1]`: per frequency k ≥ 1, the norm over all neurons of the same terms of their
   * centred activations; entry 0, the norm of the constant terms `(const, const)` of the
   * uncentred activations (`p · mean` per neuron). What `gini_neurons` is taken over (k ≥ 1).
   */
  norms: number[];
}

/**
 * Each neuron's frequency and the fraction of its variance it explains, as `calculate_key_freqs`
 * of the paper's code: centre each neuron's activations over the p² inputs, take the 2D Fourier
 * transform `G = F · A · Fᵀ` of the `[p, p]` grid (`fft2d`), and for each frequency k sum the
 * squares of `G[a, b]` with a and b in `{const, cos k, sin k}` (their `extract_freq_2d`: the 3 × 3
 * block, i.e. the linear terms `(const, cos k)`, `(const, sin k)`, `(cos k, const)`, `(sin k,
 * const)`, the quadratic `(cos k, cos k)`, `(cos k, sin k)`, `(sin k, cos k)`, `(sin k, sin k)`,
 * and `(const, const)`, which centring made 0), divided by `Σ G²`. The neuron's frequency is the k
 * with the largest fraction (the first on ties).
 *
 * Deviations: their loop `for freq in range(1, p//2)` skips the last frequency (p − 1)/2; here
 * k runs over all of 1..⌊p/2⌋ (for even p, k = p/2 has only its cosine). A neuron with no variance
 * (dead under ReLU, or constant up to rounding: `Σ G² ≤ 1e-24 · Σ A²`) gets frequency 0 and
 * fraction 0 where theirs divides by zero.
 *
 * @example
 * ```ts
 * import { neuronFrequencies } from "./neuron_freqs.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const p = 5;
 * // one neuron: cos(2π·2x/5) + cos(2π·2y/5), all of it on frequency 2
 * const acts = Array.from({ length: p * p }, (_, i) =>
 *   Math.cos((4 * Math.PI * Math.floor(i / p)) / p) + Math.cos((4 * Math.PI * (i % p)) / p));
 * const { freq, frac } = neuronFrequencies(tensor(acts, [p * p, 1]), p);
 * freq; // [2]
 * frac; // [1] (up to rounding)
 * ```
 */
export function neuronFrequencies(post: Tensor, p: number): NeuronFrequencies {
  if (post.ndim !== 2 || post.shape[0] !== p * p) {
    throw new RangeError(`neuronFrequencies: post [${post.shape}], expected [${p * p}, d_mlp]`);
  }
  const M = post.shape[1]!;
  const acts = post.data;
  const mean = new Float64Array(M);
  const raw = new Float64Array(M); // Σ A² per neuron, the scale "no variance" is judged against
  for (let i = 0; i < p * p; i++) {
    for (let n = 0; n < M; n++) {
      const v = acts[i * M + n]!;
      mean[n] = mean[n]! + v / (p * p);
      raw[n] = raw[n]! + v * v;
    }
  }
  const centred = Float64Array.from({ length: p * p * M }, (_, j) => acts[j]! - mean[j % M]!);
  const G = fourier2d(new Tensor(centred, [p, p, M])).data; // [p, p, M]

  const nFreqs = frequencyCount(p);
  const total = new Float64Array(M);
  const byFreq = new Float64Array(nFreqs * M); // [k, M]: Σ of squares of frequency k's terms
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const k = sharedFrequency(a, b);
      for (let n = 0; n < M; n++) {
        const g2 = G[(a * p + b) * M + n]! ** 2;
        total[n] = total[n]! + g2;
        if (k > 0) byFreq[k * M + n] = byFreq[k * M + n]! + g2;
      }
    }
  }

  const freq: number[] = [];
  const frac: number[] = [];
  for (let n = 0; n < M; n++) {
    let best = 0;
    let bestFrac = 0;
    if (total[n]! > 1e-24 * raw[n]!) {
      for (let k = 1; k < nFreqs; k++) {
        const f = byFreq[k * M + n]! / total[n]!;
        if (best === 0 || f > bestFrac) [best, bestFrac] = [k, f];
      }
    }
    freq.push(best);
    frac.push(bestFrac);
  }
  const norms = Array.from({ length: nFreqs }, (_, k) => {
    let squares = 0;
    for (let n = 0; n < M; n++) {
      squares += k === 0 ? (p * mean[n]!) ** 2 : byFreq[k * M + n]!;
    }
    return Math.sqrt(squares);
  });
  return { freq, frac, norms };
}

/**
 * The neurons grouped by frequency: for each frequency with any neuron whose fraction explained
 * exceeds `threshold` (0.85, the paper's), the cluster's size and the mean fraction its neurons'
 * frequency explains. Ascending by frequency.
 *
 * @example
 * ```ts
 * import { neuronClusters } from "./neuron_freqs.ts";
 * neuronClusters({ freq: [3, 3, 5, 3], frac: [0.9, 0.99, 0.95, 0.4] });
 * // [{ freq: 3, size: 2, frac_explained: 0.945 }, { freq: 5, size: 1, frac_explained: 0.95 }]
 * ```
 */
export function neuronClusters(
  neurons: Pick<NeuronFrequencies, "freq" | "frac">,
  threshold = 0.85,
): { freq: number; size: number; frac_explained: number }[] {
  const members = new Map<number, number[]>();
  neurons.freq.forEach((k, n) => {
    const f = neurons.frac[n]!;
    if (k > 0 && f > threshold) members.set(k, [...(members.get(k) ?? []), f]);
  });
  return [...members.entries()]
    .sort(([a], [b]) => a - b)
    .map(([freq, fracs]) => ({
      freq,
      size: fracs.length,
      frac_explained: fracs.reduce((s, f) => s + f, 0) / fracs.length,
    }));
}

/**
 * The key frequencies, ascending: those whose cluster (neurons with fraction explained above
 * `threshold`, default 0.85) holds at least `minNeurons` neurons (default `max(1, ⌈M/100⌉)`: 1% of
 * the MLP, 6 of the paper's 512).
 *
 * Deviation: the paper's `calculate_key_freqs` returns `np.unique(neuron_freqs)`, every frequency
 * some neuron is assigned to, whatever its fraction; one dead or unspecialised neuron then adds a
 * spurious frequency (and at initialisation every frequency is "key"). The threshold is the one
 * the paper uses for its clusters (§4.2); a model that has not formed clusters has no key
 * frequencies.
 *
 * @example
 * ```ts
 * import { keyFrequencies } from "./neuron_freqs.ts";
 * const neurons = { freq: [14, 14, 35, 35, 3], frac: [0.95, 0.9, 0.97, 0.88, 0.3] };
 * keyFrequencies(neurons); // [14, 35]: frequency 3's only neuron explains too little
 * keyFrequencies(neurons, { minNeurons: 3 }); // []
 * ```
 */
export function keyFrequencies(
  neurons: Pick<NeuronFrequencies, "freq" | "frac">,
  options: { threshold?: number; minNeurons?: number } = {},
): number[] {
  const minNeurons = options.minNeurons ?? Math.max(1, Math.ceil(neurons.freq.length / 100));
  return neuronClusters(neurons, options.threshold)
    .filter((c) => c.size >= minNeurons)
    .map((c) => c.freq);
}

/**
 * The frequency k ≥ 1 a 2D term `(a, b)` of the basis belongs to, when both rows are of k or the
 * constant (the 3 × 3 block of `extract_freq_2d`), else 0 (`(const, const)`, or two frequencies).
 */
function sharedFrequency(a: number, b: number): number {
  const ka = Math.ceil(a / 2); // row r of fourierBasis is of frequency ⌈r/2⌉
  const kb = Math.ceil(b / 2);
  if (ka === 0) return kb;
  if (kb === 0 || kb === ka) return ka;
  return 0;
}
