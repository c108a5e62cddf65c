/**
 * Matrix products with numpy's `matmul` semantics: the last two dimensions multiply
 * (`[..., m, k] @ [..., k, n] -> [..., m, n]`), the batch dimensions before them broadcast, and a
 * 1-D operand is a row (left) or column (right) vector whose dimension is dropped from the result.
 * Accumulation is in double precision; the result is rounded once to its dtype. Each product of
 * two matrices runs in the WebAssembly SIMD kernel of `gemm_wasm.ts`.
 *
 * @module
 */

import { allocate, promote } from "./dtype.ts";
import { gemm } from "./gemm_wasm.ts";
import { sizeOf, Tensor } from "./tensor.ts";
import { broadcastLoop, broadcastShapes, broadcastStrides } from "./view.ts";

/**
 * The matrix product `a @ b`.
 *
 * @example
 * ```ts
 * import { matmul } from "./matmul.ts";
 * import { tensor, zeros } from "./tensor.ts";
 * const a = tensor([1, 2, 3, 4], [2, 2]);
 * matmul(a, a).toArray(); // Float64Array [7, 10, 15, 22]
 * matmul(zeros([5, 1, 2, 3]), zeros([4, 3, 6])).shape; // [5, 4, 2, 6]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new Error("matmul: operands must have at least 1 dim");
  const A = a.ndim === 1 ? a.reshape([1, a.size]) : a;
  const B = b.ndim === 1 ? b.reshape([b.size, 1]) : b;
  const [m, k] = A.shape.slice(-2) as [number, number];
  const [k2, n] = B.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new Error(`matmul: [${a.shape}] @ [${b.shape}]: inner dims ${k} and ${k2} differ`);
  }
  const batchA = A.shape.slice(0, -2);
  const batchB = B.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB);
  } catch (e) {
    throw new Error(`matmul: batch dims of [${a.shape}] @ [${b.shape}]: ${(e as Error).message}`);
  }
  const out = allocate(promote(a.dtype, b.dtype), sizeOf(batch) * m * n);
  broadcastLoop(
    batch,
    broadcastStrides(batchA, batch),
    broadcastStrides(batchB, batch),
    (o, ia, ib) =>
      gemm({
        A: A.data,
        offA: ia * m * k,
        B: B.data,
        offB: ib * k * n,
        C: out,
        offC: o * m * n,
        m,
        k,
        n,
      }),
  );
  const shape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return new Tensor(out, shape);
}
