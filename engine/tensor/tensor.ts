/**
 * The `Tensor`: a shape, a dtype and one contiguous row-major typed array, so a tensor's data can
 * be handed to the GPU or written to a safetensors file as it is. Operations return new tensors;
 * only those that change nothing but the shape (`reshape`, `squeeze`, `unsqueeze`, a permute or
 * rearrange that keeps the order) share the input's data. Nothing writes into a tensor's data, so
 * sharing is safe as long as callers treat `data` as read-only.
 *
 * @module
 */

import { allocate, type DType, dtypeOf, type TypedArray } from "./dtype.ts";
import { formatTensor } from "./format.ts";

/** Anything a tensor can be built from: a flat array of numbers or a typed array. */
export type TensorData = ArrayLike<number> | TypedArray;

/**
 * An n-dimensional array of numbers, stored flat in row-major order.
 *
 * @example
 * ```ts
 * import { Tensor } from "./tensor.ts";
 * const t = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * t.get(1, -1); // 6
 * t.reshape([3, -1]).shape; // [3, 2]
 * t.astype("i32").dtype; // "i32"
 * t.toNested(); // [[1, 2, 3], [4, 5, 6]]
 * ```
 */
export class Tensor {
  /** The element type. */
  readonly dtype: DType;
  /** The size of each dimension, outermost first; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The elements, row-major. Shared, not copied: treat as read-only, or use `toArray()`. */
  readonly data: TypedArray;

  /** Wraps `data` (not copied) as a tensor of `shape`; the sizes must agree. */
  constructor(data: TypedArray, shape: readonly number[]) {
    const n = checkedSize(shape);
    if (n !== data.length) {
      throw new Error(`shape [${shape}] holds ${n} elements but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOf(data);
  }

  /** The number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** A copy of the elements as a flat row-major typed array. */
  toArray(): TypedArray {
    return this.data.slice();
  }

  /** The element at a full index; negative indices count from the end. */
  get(...index: number[]): number {
    return this.data[offsetOf(this.shape, index)]!;
  }

  /** The tensor as nested JavaScript arrays (a scalar for a 0-d tensor), for printing and JSON. */
  toNested(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.ndim) return this.data[offset];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * step));
    };
    return build(0, 0);
  }

  /** The same elements under another shape; one size may be `-1` and is then inferred. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.data, resolveShape(shape, this.size));
  }

  /** The elements converted to `dtype` (a copy; to `i32` truncates toward zero). */
  astype(dtype: DType): Tensor {
    const out = allocate(dtype, this.size);
    if (dtype === "i32") {
      for (let i = 0; i < out.length; i++) {
        out[i] = Math.trunc(this.data[i]!);
      }
    } else out.set(this.data);
    return new Tensor(out, this.shape);
  }

  /** The values as PyTorch prints them (`formatTensor`), the middle elided when large. */
  toString(): string {
    return formatTensor(this);
  }

  /** What `console.log(t)` prints in Deno: the values, not the fields. */
  [Symbol.for("Deno.customInspect")](): string {
    return formatTensor(this);
  }
}

/**
 * Builds a tensor from flat data. Without a dtype a typed array keeps its own and a plain array
 * becomes `f64`; with one the data is converted. Without a shape the tensor is 1-D.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], "f32");
 * t.shape; // [2, 3]
 * t.get(1, 0); // 4
 * ```
 */
export function tensor(
  data: TensorData | number,
  shape?: readonly number[],
  dtype?: DType,
): Tensor {
  const flat = typeof data === "number" ? [data] : data;
  const target = dtype ?? (isTypedArray(flat) ? dtypeOf(flat) : "f64");
  const out = allocate(target, flat.length);
  if (target === "i32") {
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!Number.isInteger(v)) throw new Error(`i32 tensor from non-integer value ${v} at ${i}`);
      out[i] = v;
    }
  } else {
    out.set(flat);
  }
  const s = shape ?? (typeof data === "number" ? [] : [flat.length]);
  return new Tensor(out, s);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ```ts
 * import { full } from "./tensor.ts";
 * full([2, 2], 7, "i32").toArray(); // Int32Array [7, 7, 7, 7]
 * ```
 */
export function full(shape: readonly number[], value: number, dtype: DType = "f64"): Tensor {
  const data = allocate(dtype, checkedSize(shape));
  data.fill(value);
  return new Tensor(data, shape);
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * import { zeros } from "./tensor.ts";
 * zeros([2, 3], "f32").size; // 6
 * ```
 */
export function zeros(shape: readonly number[], dtype: DType = "f64"): Tensor {
  return new Tensor(allocate(dtype, checkedSize(shape)), shape);
}

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * import { ones } from "./tensor.ts";
 * ones([3]).toArray(); // Float64Array [1, 1, 1]
 * ```
 */
export function ones(shape: readonly number[], dtype: DType = "f64"): Tensor {
  return full(shape, 1, dtype);
}

/**
 * The numbers `start, start + step, ...` below `stop`, as numpy's `arange`: i32 when every
 * argument is an integer, else f64 (numpy's choice too), unless `dtype` says otherwise.
 *
 * @example
 * ```ts
 * import { arange } from "./tensor.ts";
 * arange(4).toArray(); // Int32Array [0, 1, 2, 3]
 * arange(1, 7, 2).toArray(); // Int32Array [1, 3, 5]
 * arange(0, 1, 0.25).toArray(); // Float64Array [0, 0.25, 0.5, 0.75]
 * ```
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error("arange: step must not be 0");
  const integral = [lo, hi, step].every(Number.isInteger);
  if (dtype === "i32" && !integral) {
    throw new Error(`arange: i32 needs integer start, stop and step, got ${lo}, ${hi}, ${step}`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const data = allocate(dtype ?? (integral ? "i32" : "f64"), n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return new Tensor(data, [n]);
}

/**
 * The `n × n` identity matrix.
 *
 * @example
 * ```ts
 * import { eye } from "./tensor.ts";
 * eye(2).toArray(); // Float64Array [1, 0, 0, 1]
 * ```
 */
export function eye(n: number, dtype: DType = "f64"): Tensor {
  const data = allocate(dtype, checkedSize([n, n]));
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new Tensor(data, [n, n]);
}

/**
 * The number of elements of a shape.
 *
 * @example
 * ```ts
 * import { sizeOf } from "./tensor.ts";
 * sizeOf([2, 3, 4]); // 24
 * ```
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Row-major strides, in elements.
 *
 * @example
 * ```ts
 * import { stridesOf } from "./tensor.ts";
 * stridesOf([2, 3, 4]); // [12, 4, 1]
 * ```
 */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Turns a possibly negative axis into one in `[0, ndim)`, or throws naming the axis.
 *
 * @example
 * ```ts
 * import { normalizeAxis } from "./tensor.ts";
 * normalizeAxis(-1, 3); // 2
 * ```
 */
export function normalizeAxis(axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new Error(`axis ${axis} is out of range for a tensor of ${ndim} dimensions`);
  }
  return axis < 0 ? axis + ndim : axis;
}

function offsetOf(shape: readonly number[], index: readonly number[]): number {
  if (index.length !== shape.length) {
    throw new Error(`index [${index}] has ${index.length} entries for shape [${shape}]`);
  }
  let offset = 0;
  for (let d = 0; d < shape.length; d++) {
    offset = offset * shape[d]! + normalizeIndex(index[d]!, shape[d]!, { dim: d });
  }
  return offset;
}

/**
 * An index into a dim of size `n`, negative counting from the end, as a position in `[0, n)`;
 * otherwise an error naming the index, the dim and its size (prefixed with `caller`, if given).
 *
 * @example
 * ```ts
 * import { normalizeIndex } from "./tensor.ts";
 * normalizeIndex(-1, 5, { dim: 0 }); // 4
 * // normalizeIndex(5, 5, { dim: 0, caller: "take" }) throws
 * //   "take: index 5 is out of range for dim 0 of size 5"
 * ```
 */
export function normalizeIndex(
  i: number,
  n: number,
  where: { dim: number; caller?: string },
): number {
  const prefix = where.caller ? `${where.caller}: ` : "";
  if (!Number.isInteger(i)) throw new Error(`${prefix}index ${i} is not an integer`);
  if (i < -n || i >= n) {
    throw new Error(`${prefix}index ${i} is out of range for dim ${where.dim} of size ${n}`);
  }
  return i < 0 ? i + n : i;
}

/** The number of elements of `shape`, after checking every size is a non-negative integer. */
function checkedSize(shape: readonly number[]): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`invalid shape [${shape}]: sizes must be non-negative integers`);
    }
  }
  return sizeOf(shape);
}

function resolveShape(shape: readonly number[], size: number): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: at most one -1 in [${shape}]`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (sizeOf(out) !== size || out.some((d) => !Number.isInteger(d))) {
    throw new Error(`cannot reshape ${size} elements into [${shape}]`);
  }
  return out;
}

function isTypedArray(x: unknown): x is TypedArray {
  return x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array;
}
