/**
 * LayerNorm in f32 for the fast CPU model, forward and backward side by side: the same
 * arithmetic as `engine/reference/layernorm.ts` (biased variance, the model's eps), with each row's
 * statistics summed in f64 and the rows stored in f32.
 *
 * Shape letters: N rows, D d_model.
 *
 * @module
 */

/** What the backward reads: each row's mean and 1 / sqrt(var + eps), `[N]` each. */
export interface LayerNormStats {
  mean: Float32Array;
  rstd: Float32Array;
}

/** One LayerNorm: `w`, `b` `[D]` and what it adds to the variance (`normArrays`'). */
export interface LayerNormParams {
  w: Float32Array;
  b: Float32Array;
  eps: number;
}

/**
 * `y = (x - mean) · rstd · w + b` per row of `x [N, D]`, `rstd = 1 / sqrt(var + eps)`; returns
 * `y [N, D]` and the stats.
 *
 * @example
 * ```ts
 * import { layerNormForward } from "./layernorm.ts";
 * const [w, b] = [new Float32Array([1, 1]), new Float32Array(2)];
 * layerNormForward(new Float32Array([1, 3]), { w, b, eps: 1e-5 }).y; // about [-1, 1]
 * layerNormForward(new Float32Array([1, 3]), { w, b, eps: 3 }).y; // [-0.5, 0.5]: 1 / sqrt(1 + 3)
 * ```
 */
export function layerNormForward(
  x: Float32Array,
  { w, b, eps }: LayerNormParams,
): LayerNormStats & { y: Float32Array } {
  const D = w.length;
  const N = x.length / D;
  const y = new Float32Array(x.length);
  const mean = new Float32Array(N);
  const rstd = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    const row = r * D;
    let sum = 0;
    for (let d = 0; d < D; d++) sum += x[row + d]!;
    const mu = sum / D;
    let squares = 0;
    for (let d = 0; d < D; d++) {
      const dev = x[row + d]! - mu;
      squares += dev * dev;
    }
    const rs = 1 / Math.sqrt(squares / D + eps);
    for (let d = 0; d < D; d++) y[row + d] = (x[row + d]! - mu) * rs * w[d]! + b[d]!;
    mean[r] = mu;
    rstd[r] = rs;
  }
  return { y, mean, rstd };
}

/**
 * The backward of `layerNormForward` from `dy [N, D]`: `dw += Σ dy·x̂`, `db += Σ dy`, and the
 * input gradient `rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂))` *added* to `dx [N, D]` (the
 * residual stream's gradient, which also flows around the LayerNorm).
 *
 * @example
 * ```ts
 * import { layerNormBackward, layerNormForward } from "./layernorm.ts";
 * const x = new Float32Array([1, 3]), w = new Float32Array([1, 1]);
 * const stats = layerNormForward(x, { w, b: new Float32Array(2), eps: 1e-5 });
 * const dx = new Float32Array(2), dw = new Float32Array(2), db = new Float32Array(2);
 * layerNormBackward({ x, w, stats, dy: new Float32Array([1, 1]) }, { dx, dw, db });
 * dx; // [0, 0]: a shift of both outputs cannot come from x
 * ```
 */
export function layerNormBackward(
  { x, w, stats, dy }: {
    x: Float32Array;
    w: Float32Array;
    stats: LayerNormStats;
    dy: Float32Array;
  },
  { dx, dw, db }: { dx: Float32Array; dw: Float32Array; db: Float32Array },
): void {
  const D = w.length;
  const N = x.length / D;
  const dws = Float64Array.from(dw);
  const dbs = Float64Array.from(db);
  const xhat = new Float64Array(D);
  for (let r = 0; r < N; r++) {
    const row = r * D;
    const mu = stats.mean[r]!;
    const rs = stats.rstd[r]!;
    let sumG = 0;
    let sumGX = 0;
    for (let d = 0; d < D; d++) {
      const xh = (x[row + d]! - mu) * rs;
      const g = dy[row + d]! * w[d]!;
      xhat[d] = xh;
      sumG += g;
      sumGX += g * xh;
      dws[d] = dws[d]! + dy[row + d]! * xh;
      dbs[d] = dbs[d]! + dy[row + d]!;
    }
    const meanG = sumG / D;
    const meanGX = sumGX / D;
    for (let d = 0; d < D; d++) {
      const g = dy[row + d]! * w[d]!;
      dx[row + d] = dx[row + d]! + rs * (g - meanG - xhat[d]! * meanGX);
    }
  }
  dw.set(dws);
  db.set(dbs);
}
