/**
 * The real Fourier basis over `Z_p` and changes of basis into it. A network that learned modular
 * addition (Nanda et al. 2023, "Progress measures for grokking via mechanistic interpretability")
 * computes with a few frequencies: its embeddings, attention patterns and logits are sparse in
 * this basis, which is how the algorithm is read off. Rows are ordered as in the paper's code:
 * const, cos 1, sin 1, cos 2, sin 2, ...
 *
 * @module
 */

import { normalizeAxis, sizeOf, Tensor } from "./tensor.ts";
import { matmul } from "./matmul.ts";

/**
 * The `[p, p]` orthonormal Fourier basis over `0..p-1` (f64): row 0 is constant, rows `2k − 1`
 * and `2k` are `cos(2πkx/p)` and `sin(2πkx/p)`, each normalised to unit length. For even `p` the
 * sine of frequency `p/2` is identically zero, so only its cosine (the alternating ±1 row) is
 * kept, which leaves exactly `p` rows.
 *
 * @example
 * ```ts
 * import { fourierBasis } from "./fourier.ts";
 * fourierBasis(4).toNested();
 * // [[0.5, 0.5, 0.5, 0.5],
 * //  [0.7071…, 0, -0.7071…, 0],
 * //  [0, 0.7071…, 0, -0.7071…],
 * //  [0.5, -0.5, 0.5, -0.5]]   (up to rounding: cos(π/2) is 6e-17)
 * ```
 */
export function fourierBasis(p: number): Tensor {
  checkOrder(p, "fourierBasis");
  const out = new Float64Array(p * p);
  for (let row = 0; row < p; row++) {
    const { wave, k } = waveOf(row);
    const values = out.subarray(row * p, (row + 1) * p);
    let squares = 0;
    for (let x = 0; x < p; x++) {
      // k·x mod p first keeps the angle below 2π, where cos and sin are most accurate.
      const v = wave((2 * Math.PI * ((k * x) % p)) / p);
      values[x] = v;
      squares += v * v;
    }
    const size = Math.sqrt(squares);
    for (let x = 0; x < p; x++) values[x] = values[x]! / size;
  }
  return new Tensor(out, [p, p]);
}

/**
 * The names of `fourierBasis(p)`'s rows, for labelling plots.
 *
 * @example
 * ```ts
 * import { fourierBasisNames } from "./fourier.ts";
 * fourierBasisNames(5); // ["const", "cos 1", "sin 1", "cos 2", "sin 2"]
 * fourierBasisNames(4); // ["const", "cos 1", "sin 1", "cos 2"]
 * ```
 */
export function fourierBasisNames(p: number): string[] {
  checkOrder(p, "fourierBasisNames");
  return Array.from({ length: p }, (_, row) => {
    const { wave, k } = waveOf(row);
    return k === 0 ? "const" : `${wave === Math.cos ? "cos" : "sin"} ${k}`;
  });
}

/**
 * Changes basis along one axis of size `p`: `F · t` on that axis (numpy's
 * `np.tensordot(F, t, (1, axis))` moved back into place). Results are f64.
 *
 * @example
 * ```ts
 * import { fourier1d } from "./fourier.ts";
 * import { tensor } from "./tensor.ts";
 * const wave = tensor([1, 0, -1, 0]); // cos(2πx/4)
 * fourier1d(wave).toArray(); // Float64Array [0, 1.414…, 0, 0]: all on "cos 1"
 * ```
 */
export function fourier1d(t: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, t.ndim);
  const p = t.shape[a]!;
  const outer = sizeOf(t.shape.slice(0, a));
  const inner = sizeOf(t.shape.slice(a + 1));
  // The basis broadcasts over the leading dims as a batched matmul, so the axis never has to be
  // moved to the front and back.
  return matmul(fourierBasis(p), t.reshape([outer, p, inner])).reshape(t.shape);
}

/**
 * Changes basis along the first two dims of a `[p, p, ...rest]` tensor, `F · t · Fᵀ` on them
 * (einsum `"a x, b y, x y ... -> a b ..."`): how a function of the two operands of `a + b mod p`,
 * such as the logits over the `[p, p]` input grid, is read in frequencies. Results are f64.
 *
 * @example
 * ```ts
 * import { fourier2d } from "./fourier.ts";
 * import { ones } from "./tensor.ts";
 * fourier2d(ones([3, 3, 2])).get(0, 0, 1); // 3: a constant lands on (const, const)
 * ```
 */
export function fourier2d(t: Tensor): Tensor {
  if (t.ndim < 2 || t.shape[0] !== t.shape[1]) {
    throw new Error(`fourier2d: expected a [p, p, ...] tensor, got shape [${t.shape}]`);
  }
  return fourier1d(fourier1d(t, 0), 1);
}

function checkOrder(p: number, caller: string): void {
  if (!Number.isInteger(p) || p < 1) {
    throw new Error(`${caller}: p must be a positive integer, got ${p}`);
  }
}

/** Which wave and frequency a basis row holds: row 0 is cos of frequency 0, the constant. */
function waveOf(row: number): { wave: (x: number) => number; k: number } {
  return { wave: row % 2 === 0 && row > 0 ? Math.sin : Math.cos, k: Math.ceil(row / 2) };
}
