/**
 * Comparing tensors, as every kernel test does: the largest absolute difference, reported, against
 * a stated tolerance.
 *
 * @module
 */

import { Tensor } from "./tensor.ts";

/**
 * The largest `|a - b|` over all elements; the shapes must be equal. NaN where either has a NaN.
 *
 * @example
 * ```ts
 * import { maxAbsDiff } from "./compare.ts";
 * import { tensor } from "./tensor.ts";
 * maxAbsDiff(tensor([1, 2]), tensor([1, 2.5])); // 0.5
 * ```
 */
export function maxAbsDiff(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = a instanceof Tensor ? a.data : a;
  const y = b instanceof Tensor ? b.data : b;
  if (a instanceof Tensor && b instanceof Tensor && a.shape.join() !== b.shape.join()) {
    throw new Error(`maxAbsDiff: shapes [${a.shape}] and [${b.shape}] differ`);
  }
  if (x.length !== y.length) throw new Error(`maxAbsDiff: ${x.length} vs ${y.length} elements`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > worst) worst = d;
  }
  return worst;
}
