/**
 * Strided views, materialised. A view reads a tensor's data through an offset and one stride per
 * output dimension: transposes permute the strides, broadcasting sets a stride to 0, slicing scales
 * and shifts them, a diagonal adds two together. `materialize` is the one loop that turns any such
 * view into a new contiguous tensor, so every shape operation is a few lines of stride arithmetic.
 *
 * @module
 */

import { allocate, type DType, promote } from "./dtype.ts";
import { normalizeAxis, sizeOf, stridesOf, Tensor } from "./tensor.ts";

/** A strided window onto a tensor's data. */
export interface View {
  /** The first element read. */
  offset: number;
  /** The shape of the result. */
  shape: readonly number[];
  /** How far to move in the source data for a step along each result dimension (may be 0). */
  strides: readonly number[];
}

/**
 * Copies the view of `t` into a new contiguous tensor (of `dtype`, by default `t`'s).
 *
 * @example
 * ```ts
 * import { materialize } from "./view.ts";
 * import { tensor } from "./tensor.ts";
 * const m = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * materialize(m, { offset: 0, shape: [3, 2], strides: [1, 3] }).toArray(); // the transpose
 * ```
 */
export function materialize(t: Tensor, view: View, dtype: DType = t.dtype): Tensor {
  const { shape, strides } = view;
  const n = sizeOf(shape);
  const out = allocate(dtype, n);
  const src = t.data;
  const nd = shape.length;
  if (n === 0) return new Tensor(out, shape);
  if (nd === 0) {
    out[0] = src[view.offset]!;
    return new Tensor(out, shape);
  }
  // Odometer over all dimensions but the last; the last is the inner loop.
  const inner = shape[nd - 1]!;
  const innerStride = strides[nd - 1]!;
  const index = new Array<number>(nd - 1).fill(0);
  let base = view.offset;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = src[s]!;
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++index[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return new Tensor(out, shape);
}

/**
 * Reorders the dimensions: result dim `i` is input dim `axes[i]` (numpy's `transpose(axes)`).
 *
 * @example
 * ```ts
 * import { permute } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * permute(zeros([2, 3, 4]), [2, 0, 1]).shape; // [4, 2, 3]
 * ```
 */
export function permute(t: Tensor, axes: readonly number[]): Tensor {
  if (axes.length !== t.ndim) {
    throw new Error(`permute: ${axes.length} axes given for a tensor of ${t.ndim} dimensions`);
  }
  const norm = axes.map((a) => normalizeAxis(a, t.ndim));
  if (new Set(norm).size !== norm.length) throw new Error(`permute: repeated axis in [${axes}]`);
  if (norm.every((a, i) => a === i)) return t;
  if (t.ndim === 2) return transposed(t);
  const strides = stridesOf(t.shape);
  return materialize(t, {
    offset: 0,
    shape: norm.map((a) => t.shape[a]!),
    strides: norm.map((a) => strides[a]!),
  });
}

/**
 * A matrix `[R, C]` transposed in 32×32 blocks: the generic strided walk takes seconds on
 * GPT-2's 38.6M-element `W_E`.
 */
function transposed(t: Tensor): Tensor {
  const [R, C] = t.shape as [number, number];
  const out = allocate(t.dtype, t.size);
  const src = t.data;
  const B = 32;
  for (let r0 = 0; r0 < R; r0 += B) {
    const r1 = Math.min(R, r0 + B);
    for (let c0 = 0; c0 < C; c0 += B) {
      const c1 = Math.min(C, c0 + B);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * R + r] = src[r * C + c]!;
      }
    }
  }
  return new Tensor(out, [C, R]);
}

/**
 * Swaps two dimensions; with no arguments, reverses them all (a matrix transpose for 2-D).
 *
 * @example
 * ```ts
 * import { transpose } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * transpose(zeros([2, 3])).shape; // [3, 2]
 * transpose(zeros([2, 3, 4]), 0, 2).shape; // [4, 3, 2]
 * ```
 */
export function transpose(t: Tensor, dim0?: number, dim1?: number): Tensor {
  const axes = [...t.shape.keys()];
  if (dim0 === undefined && dim1 === undefined) return permute(t, axes.reverse());
  if (dim0 === undefined || dim1 === undefined) {
    throw new Error("transpose: give both dims to swap, or neither to reverse them all");
  }
  const a = normalizeAxis(dim0, t.ndim);
  const b = normalizeAxis(dim1, t.ndim);
  [axes[a], axes[b]] = [b, a];
  return permute(t, axes);
}

/**
 * The shape two shapes broadcast to under numpy's rules, or an error naming both shapes and the
 * first dimension (counted in the result) where they disagree.
 *
 * @example
 * ```ts
 * import { broadcastShapes } from "./view.ts";
 * broadcastShapes([1, 2, 4], [3, 2, 4]); // [3, 2, 4]
 * // broadcastShapes([1, 3, 4], [3, 2, 4]) throws
 * //   "cannot broadcast [1,3,4] with [3,2,4]: dim 1 is 3 vs 2"
 * ```
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  const out = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const da = a[i - (nd - a.length)] ?? 1;
    const db = b[i - (nd - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`cannot broadcast [${a}] with [${b}]: dim ${i} is ${da} vs ${db}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The strides that read a tensor of `shape` as if it had the (broadcast) shape `target`:
 * leading and size-1 dimensions get stride 0.
 *
 * @example
 * ```ts
 * import { broadcastStrides } from "./view.ts";
 * broadcastStrides([3, 1], [2, 3, 4]); // [0, 1, 0]
 * ```
 */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const lead = target.length - shape.length;
  return target.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

/**
 * Repeats size-1 and missing leading dimensions to reach `shape` (a copy).
 *
 * @example
 * ```ts
 * import { broadcastTo } from "./view.ts";
 * import { tensor } from "./tensor.ts";
 * broadcastTo(tensor([1, 2]), [2, 2]).toArray(); // Float64Array [1, 2, 1, 2]
 * ```
 */
export function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes(t.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new Error(`cannot broadcast [${t.shape}] to [${shape}]`);
  }
  return materialize(t, { offset: 0, shape, strides: broadcastStrides(t.shape, shape) });
}

/**
 * Inserts a dimension of size 1 at `axis`.
 *
 * @example
 * ```ts
 * import { unsqueeze } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * unsqueeze(zeros([2, 3]), 1).shape; // [2, 1, 3]
 * ```
 */
export function unsqueeze(t: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, t.ndim + 1);
  return t.reshape([...t.shape.slice(0, a), 1, ...t.shape.slice(a)]);
}

/**
 * Removes size-1 dimensions: the one at `axis`, or all of them.
 *
 * @example
 * ```ts
 * import { squeeze } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * squeeze(zeros([1, 2, 1])).shape; // [2]
 * ```
 */
export function squeeze(t: Tensor, axis?: number): Tensor {
  if (axis === undefined) return t.reshape(t.shape.filter((d) => d !== 1));
  const a = normalizeAxis(axis, t.ndim);
  if (t.shape[a] !== 1) throw new Error(`squeeze: dim ${a} has size ${t.shape[a]}, not 1`);
  return t.reshape(t.shape.filter((_, i) => i !== a));
}

/**
 * Joins tensors along an existing dimension.
 *
 * @example
 * ```ts
 * import { concat } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * concat([zeros([2, 3]), zeros([2, 5])], 1).shape; // [2, 8]
 * ```
 */
export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  const first = ts[0];
  if (first === undefined) throw new Error("concat: no tensors given");
  const a = normalizeAxis(axis, first.ndim);
  for (const t of ts) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: shape [${t.shape}] does not match [${first.shape}] off dim ${a}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = ts.reduce((n, t) => n + t.shape[a]!, 0);
  const outer = sizeOf(shape.slice(0, a));
  const out = allocate(ts.map((t) => t.dtype).reduce(promote), sizeOf(shape));
  const rowOut = sizeOf(shape.slice(a));
  let col = 0;
  for (const t of ts) {
    const row = sizeOf(t.shape.slice(a));
    for (let o = 0; o < outer; o++) {
      out.set(t.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
    }
    col += row;
  }
  return new Tensor(out, shape);
}

/**
 * Joins tensors of one shape along a new dimension.
 *
 * @example
 * ```ts
 * import { stack } from "./view.ts";
 * import { zeros } from "./tensor.ts";
 * stack([zeros([2]), zeros([2]), zeros([2])]).shape; // [3, 2]
 * ```
 */
export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  const first = ts[0];
  if (first === undefined) throw new Error("stack: no tensors given");
  for (const t of ts) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new Error(`stack: shape [${t.shape}] does not match [${first.shape}]`);
    }
  }
  return concat(ts.map((t) => unsqueeze(t, axis)), axis);
}

/**
 * Visits every element of a broadcast result with its offsets into the two operands.
 * `stridesA` and `stridesB` come from `broadcastStrides` (0 where an operand is broadcast). The
 * loop behind every broadcasting binary operation and behind `matmul`'s batch dimensions.
 *
 * @example
 * ```ts
 * import { broadcastLoop } from "./view.ts";
 * const pairs: number[][] = [];
 * broadcastLoop([2, 2], [1, 0], [0, 1], (o, a, b) => pairs.push([o, a, b]));
 * pairs; // [[0, 0, 0], [1, 0, 1], [2, 1, 0], [3, 1, 1]]
 * ```
 */
export function broadcastLoop(
  shape: readonly number[],
  stridesA: readonly number[],
  stridesB: readonly number[],
  visit: (out: number, a: number, b: number) => void,
): void {
  const n = sizeOf(shape);
  const nd = shape.length;
  const index = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o++) {
    visit(o, ia, ib);
    for (let d = nd - 1; d >= 0; d--) {
      ia += stridesA[d]!;
      ib += stridesB[d]!;
      if (++index[d]! < shape[d]!) break;
      ia -= stridesA[d]! * shape[d]!;
      ib -= stridesB[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}
