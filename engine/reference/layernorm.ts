/**
 * LayerNorm in float64, forward and backward: TransformerLens' `LayerNorm` over the last dimension
 * D of `x` (R rows = every leading index, batch·pos in the residual stream):
 *
 *     mean  = Σ_d x / D
 *     scale = sqrt(Σ_d (x − mean)² / D + eps)      (biased variance; TL's `hook_scale`)
 *     x̂     = (x − mean) / scale                    (TL's `hook_normalized` before w and b)
 *     y     = x̂ · w + b
 *
 * Backward, with g = w ⊙ dy per row:
 *
 *     dx = (g − mean_d(g) − x̂ · mean_d(g ⊙ x̂)) / scale
 *     dw = Σ_rows dy ⊙ x̂,   db = Σ_rows dy
 *
 * The forward saves `mean` and `scale` (shape `x.shape` without D) for the backward, as
 * `kernels/layernorm.wgsl` does. This is the reference that kernel is held to, and the CPU
 * training path.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** TransformerLens' default `cfg.eps` for LayerNorm. */
export const LAYERNORM_EPS = 1e-5;

/** LayerNorm's settings. */
export interface LayerNormOptions {
  /** Added to the variance before the square root; default `LAYERNORM_EPS` (1e-5). */
  eps?: number;
}

/** What the forward pass keeps for the backward: per-row mean and `scale = sqrt(var + eps)`. */
export interface LayerNormSaved<T = Tensor> {
  /** `[...rows]`: the mean over D of each row. */
  mean: T;
  /** `[...rows]`: sqrt(biased variance + eps) of each row (TL's `hook_scale`, without its 1). */
  scale: T;
}

/** The forward pass' outputs: `y` and what the backward needs. */
export interface LayerNormOutput<T = Tensor> extends LayerNormSaved<T> {
  /** `[...rows, D]`: the normalized, scaled and shifted rows. */
  y: T;
}

/** The backward pass' gradients. */
export interface LayerNormGrads<T = Tensor> {
  /** `[...rows, D]` */
  dx: T;
  /** `[D]` */
  dw: T;
  /** `[D]` */
  db: T;
}

/** D and the number of rows of `x`, checking `w` (and `b`) are `[D]`. */
function rowsOf(kernel: string, x: Tensor, params: Record<string, Tensor>): [number, number] {
  if (x.ndim < 1) throw new RangeError(`${kernel}: x must have a last dimension, got a scalar`);
  const D = x.shape[x.ndim - 1]!;
  for (const [name, t] of Object.entries(params)) {
    if (t.ndim !== 1 || t.shape[0] !== D) {
      throw new RangeError(`${kernel}: ${name} has shape [${t.shape}], expected [${D}]`);
    }
  }
  return [x.size / Math.max(D, 1), D];
}

/** Throws unless `t` has exactly `shape`. */
function checkShape(kernel: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.join() !== shape.join()) {
    throw new RangeError(`${kernel}: ${name} has shape [${t.shape}], expected [${shape}]`);
  }
}

/**
 * LayerNorm's forward pass over the last dimension: `y = (x − mean) / scale · w + b`, in float64
 * whatever the inputs' dtype. Returns `y` (`x`'s shape) and the saved `mean` and `scale` (`x`'s
 * shape without its last dimension). The variance is computed around the mean (two passes), so a
 * large common offset costs no precision.
 *
 * @example
 * ```ts
 * import { ones, tensor, zeros } from "../tensor/mod.ts";
 * import { layernormForward } from "./layernorm.ts";
 * const x = tensor([1, 2, 3, 4, 2, 2, 2, 2], [2, 4]);
 * const { y, mean, scale } = layernormForward(x, ones([4]), zeros([4]), { eps: 0 });
 * mean.toArray(); // Float64Array [2.5, 2]
 * scale.get(0); // sqrt(1.25) = 1.118…
 * y.get(0, 0); // -1.5 / 1.118… = -1.3416…
 * ```
 */
export function layernormForward(
  x: Tensor,
  w: Tensor,
  b: Tensor,
  options: LayerNormOptions = {},
): LayerNormOutput {
  const eps = options.eps ?? LAYERNORM_EPS;
  const [R, D] = rowsOf("layernorm_forward", x, { w, b });
  const y = new Float64Array(x.size);
  const mean = new Float64Array(R);
  const scale = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const row = r * D;
    let sum = 0;
    for (let d = 0; d < D; d++) sum += x.data[row + d]!;
    const mu = sum / D;
    let squares = 0;
    for (let d = 0; d < D; d++) {
      const dev = x.data[row + d]! - mu;
      squares += dev * dev;
    }
    const s = Math.sqrt(squares / D + eps);
    for (let d = 0; d < D; d++) {
      y[row + d] = ((x.data[row + d]! - mu) / s) * w.data[d]! + b.data[d]!;
    }
    mean[r] = mu;
    scale[r] = s;
  }
  const rows = x.shape.slice(0, -1);
  return {
    y: new Tensor(y, x.shape),
    mean: new Tensor(mean, rows),
    scale: new Tensor(scale, rows),
  };
}

/**
 * LayerNorm's backward pass: from `dy` (`x`'s shape) and the forward's saved `mean` and `scale`,
 * the gradients `dx` (`x`'s shape), `dw` and `db` (`[D]`, summed over rows).
 *
 * @example
 * ```ts
 * import { ones, tensor, zeros } from "../tensor/mod.ts";
 * import { layernormBackward, layernormForward } from "./layernorm.ts";
 * const x = tensor([1, 2, 3, 4, 0, 1, 0, 1], [2, 4]);
 * const w = tensor([1, 2, 3, 4], [4]);
 * const forward = layernormForward(x, w, zeros([4]));
 * const { dx, dw, db } = layernormBackward(x, w, forward, ones([2, 4]));
 * db.toArray(); // Float64Array [2, 2, 2, 2]
 * dx.shape; // [2, 4]; each row of dx sums to 0
 * ```
 */
export function layernormBackward(
  x: Tensor,
  w: Tensor,
  saved: LayerNormSaved,
  dy: Tensor,
): LayerNormGrads {
  const [R, D] = rowsOf("layernorm_backward", x, { w });
  const rows = x.shape.slice(0, -1);
  checkShape("layernorm_backward", "dy", dy, x.shape);
  checkShape("layernorm_backward", "mean", saved.mean, rows);
  checkShape("layernorm_backward", "scale", saved.scale, rows);
  const dx = new Float64Array(x.size);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xhat = new Float64Array(D);
  for (let r = 0; r < R; r++) {
    const row = r * D;
    const mu = saved.mean.data[r]!;
    const s = saved.scale.data[r]!;
    // mean over D of g = w ⊙ dy and of g ⊙ x̂
    let meanG = 0;
    let meanGX = 0;
    for (let d = 0; d < D; d++) {
      xhat[d] = (x.data[row + d]! - mu) / s;
      const g = w.data[d]! * dy.data[row + d]!;
      meanG += g;
      meanGX += g * xhat[d]!;
    }
    meanG /= D;
    meanGX /= D;
    for (let d = 0; d < D; d++) {
      const g = w.data[d]! * dy.data[row + d]!;
      dx[row + d] = (g - meanG - xhat[d]! * meanGX) / s;
      dw[d]! += dy.data[row + d]! * xhat[d]!;
      db[d]! += dy.data[row + d]!;
    }
  }
  return {
    dx: new Tensor(dx, x.shape),
    dw: new Tensor(dw, [D]),
    db: new Tensor(db, [D]),
  };
}
