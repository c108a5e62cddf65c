/**
 * Cross-entropy in float64, forward and backward side by side: the reference of
 * `kernels/cross_entropy.wgsl` and the CPU training path's loss.
 *
 * Rows are the scored positions: `logits [R, V]`, `targets [R]` (ids), `weights [R]`. The loss of
 * row r is `logsumexp(logits[r]) - logits[r, targets[r]]` (natural log); the total a training step
 * minimises is `Σ_r weights[r] · loss[r]` (weights 1/R for a plain mean), whose gradient is
 * `dlogits[r] = weights[r] · (softmax(logits[r]) - onehot(targets[r]))`.
 *
 * A target outside `[0, V)` (e.g. -1 for an unscored row) makes the row ignored: loss 0, gradient 0,
 * not correct — the same as the GPU kernels.
 *
 * @module
 */

import { argmax, logSoftmax, Tensor } from "../tensor/mod.ts";

/** What `crossEntropy` returns. */
export interface CrossEntropyResult {
  /** `[R]`: the unweighted loss of each row. */
  loss: Tensor;
  /** `[R, V]`: the gradient of Σ_r weights[r] · loss[r] with respect to the logits. */
  dlogits: Tensor;
}

/** What `crossEntropyEval` returns. */
export interface CrossEntropyEvalResult {
  /** `[R]`: the unweighted loss of each row. */
  loss: Tensor;
  /** `[R]`: 1 where argmax(row) == target (the lowest index on ties), else 0. */
  correct: Tensor;
}

/** `[R, V]` of `logits`, with targets (and weights) of `[R]`. */
function shapeOf(logits: Tensor, targets: Tensor, weights?: Tensor): [number, number] {
  if (logits.ndim !== 2) throw new RangeError(`cross_entropy: logits [${logits.shape}] not [R, V]`);
  const [R, V] = logits.shape as [number, number];
  if (targets.shape.join() !== `${R}`) {
    throw new RangeError(`cross_entropy: targets [${targets.shape}], expected [${R}]`);
  }
  if (weights !== undefined && weights.shape.join() !== `${R}`) {
    throw new RangeError(`cross_entropy: weights [${weights.shape}], expected [${R}]`);
  }
  return [R, V];
}

/** The target of row r where it is an id in [0, V), else -1 (the row is ignored). */
function targetOf(targets: Tensor, r: number, V: number): number {
  const t = targets.data[r]!;
  return Number.isInteger(t) && t >= 0 && t < V ? t : -1;
}

/**
 * Forward and backward of the weighted cross-entropy: each row's loss and the gradient of
 * `Σ_r weights[r] · loss[r]`. `weights` defaults to `1/R` each (the mean loss).
 *
 * @example
 * ```ts
 * import { crossEntropy } from "./cross_entropy.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const logits = tensor([0, Math.log(2), Math.log(3)], [1, 3]);
 * const { loss, dlogits } = crossEntropy(logits, tensor([2], [1], "i32"));
 * loss.toArray(); // Float64Array [0.693...] = ln 6 - ln 3 = ln 2
 * dlogits.toArray(); // Float64Array [1/6, 2/6, 3/6 - 1]
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  weights?: Tensor,
): CrossEntropyResult {
  const [R, V] = shapeOf(logits, targets, weights);
  const logp = logSoftmax(logits.astype("f64")).data; // max-subtracted
  const loss = new Float64Array(R);
  const dlogits = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const t = targetOf(targets, r, V);
    if (t < 0) continue; // ignored row: loss 0, gradient 0
    const w = weights === undefined ? 1 / R : weights.data[r]!;
    const row = r * V;
    loss[r] = -logp[row + t]!;
    for (let v = 0; v < V; v++) {
      dlogits[row + v] = w * (Math.exp(logp[row + v]!) - (v === t ? 1 : 0));
    }
  }
  return { loss: new Tensor(loss, [R]), dlogits: new Tensor(dlogits, [R, V]) };
}

/**
 * Evaluation without gradient: each row's loss and whether its argmax is the target (ties go to
 * the lowest index, as `torch.argmax`).
 *
 * @example
 * ```ts
 * import { crossEntropyEval } from "./cross_entropy.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const logits = tensor([1, 3, 3, 0, 0, 5], [2, 3]);
 * const { correct } = crossEntropyEval(logits, tensor([2, 2], [2], "i32"));
 * correct.toArray(); // Float64Array [0, 1]: row 0's argmax is 1, the first of the tie
 * ```
 */
export function crossEntropyEval(logits: Tensor, targets: Tensor): CrossEntropyEvalResult {
  const [R, V] = shapeOf(logits, targets);
  const logp = logSoftmax(logits.astype("f64")).data;
  const best = argmax(logits, -1).data;
  const loss = new Float64Array(R);
  const correct = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const t = targetOf(targets, r, V);
    if (t < 0) continue;
    loss[r] = -logp[r * V + t]!;
    correct[r] = best[r] === t ? 1 : 0;
  }
  return { loss: new Tensor(loss, [R]), correct: new Tensor(correct, [R]) };
}

/**
 * The fraction of rows whose argmax is the target (ignored rows count as wrong).
 *
 * @example
 * ```ts
 * import { accuracy } from "./cross_entropy.ts";
 * import { tensor } from "../tensor/mod.ts";
 * accuracy(tensor([1, 3, 3, 0, 0, 5], [2, 3]), tensor([1, 0], [2], "i32")); // 0.5
 * ```
 */
export function accuracy(logits: Tensor, targets: Tensor): number {
  const { correct } = crossEntropyEval(logits, targets);
  let hits = 0;
  for (const c of correct.data) hits += c;
  return correct.size === 0 ? 0 : hits / correct.size;
}

/**
 * `[G, 2]`: Σ loss and Σ correct over each contiguous row segment `bounds[g] <= r < bounds[g+1]`.
 *
 * @example
 * ```ts
 * import { segmentSums } from "./cross_entropy.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const sums = segmentSums(tensor([1, 2, 3]), tensor([1, 0, 1]), [0, 1, 3]);
 * sums.toNested(); // [[1, 1], [5, 1]]
 * ```
 */
export function segmentSums(loss: Tensor, correct: Tensor, bounds: readonly number[]): Tensor {
  const G = bounds.length - 1;
  if (G < 1) throw new RangeError(`segment_sums: bounds [${bounds}] name no segment`);
  if (correct.size !== loss.size) {
    throw new RangeError(
      `segment_sums: correct [${correct.shape}] and loss [${loss.shape}] differ`,
    );
  }
  const out = new Float64Array(G * 2);
  for (let g = 0; g < G; g++) {
    const start = bounds[g]!;
    const end = bounds[g + 1]!;
    if (!(0 <= start && start <= end && end <= loss.size)) {
      throw new RangeError(
        `segment_sums: bounds [${bounds}] not non-decreasing in [0, ${loss.size}]`,
      );
    }
    for (let r = start; r < end; r++) {
      out[2 * g] = out[2 * g]! + loss.data[r]!;
      out[2 * g + 1] = out[2 * g + 1]! + correct.data[r]!;
    }
  }
  return new Tensor(out, [G, 2]);
}
