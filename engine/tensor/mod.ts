/**
 * mechlab's CPU tensor library: the float64-capable reference every GPU kernel is tested against,
 * and the layer CPU analysis (Fourier, SVD, PCA) runs on. Tensors are contiguous, row-major and
 * immutable by convention; every operation returns a new tensor.
 *
 * @example
 * ```ts
 * import { einsum, rearrange, tensor } from "./mod.ts";
 * const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * rearrange(x, "a b -> b a").shape; // [3, 2]
 * einsum("i j, i j ->", x, x).toArray(); // Float64Array [91]
 * ```
 *
 * @module
 */

export * from "./dtype.ts";
export * from "./tensor.ts";
export * from "./view.ts";
export * from "./index.ts";
export * from "./elementwise.ts";
export * from "./reduce.ts";
export * from "./matmul.ts";
export * from "./softmax.ts";
export * from "./compare.ts";
export * from "./format.ts";
export * from "./einops.ts";
export * from "./einsum.ts";
export * from "./random.ts";
export * from "./sample.ts";
export * from "./linalg.ts";
export * from "./pca.ts";
export * from "./fourier.ts";
