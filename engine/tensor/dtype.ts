/**
 * Element types. Every tensor stores its elements in one contiguous, row-major typed array:
 * `f32` in a `Float32Array` (what the GPU computes in), `f64` in a `Float64Array` (the reference
 * precision the GPU kernels are tested against) and `i32` in an `Int32Array` (token ids, indices).
 *
 * @module
 */

/** The element type of a tensor. */
export type DType = "f32" | "f64" | "i32";

/** The typed array behind a tensor of each dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/**
 * Allocates a zeroed typed array for `dtype`.
 *
 * @example
 * ```ts
 * import { allocate } from "./dtype.ts";
 * allocate("i32", 3); // Int32Array [0, 0, 0]
 * ```
 */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(length);
    case "f64":
      return new Float64Array(length);
    case "i32":
      return new Int32Array(length);
  }
}

/**
 * The dtype of a typed array.
 *
 * @example
 * ```ts
 * import { dtypeOf } from "./dtype.ts";
 * dtypeOf(new Float32Array(2)); // "f32"
 * ```
 */
export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Float64Array) return "f64";
  return "i32";
}

/**
 * The dtype two operands combine to. Floats win over integers and the wider float wins; unlike
 * numpy, `i32` with `f32` gives `f32` (as in PyTorch), because f32 is what the GPU path computes.
 *
 * @example
 * ```ts
 * import { promote } from "./dtype.ts";
 * promote("i32", "f32"); // "f32"
 * promote("f32", "f64"); // "f64"
 * ```
 */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "f64" || b === "f64") return "f64";
  return "f32";
}

/**
 * The dtype of a result that must be floating point (a mean, a true division, a logarithm):
 * integers become `f64`, floats keep their width.
 *
 * @example
 * ```ts
 * import { floatOf } from "./dtype.ts";
 * floatOf("i32"); // "f64"
 * ```
 */
export function floatOf(dtype: DType): DType {
  return dtype === "i32" ? "f64" : dtype;
}
