/**
 * Matrix products with numpy's `matmul` semantics: the last two dimensions multiply
 * (`[..., m, k] @ [..., k, n] -> [..., m, n]`), the batch dimensions before them broadcast, and a
 * 1-D operand is a row (left) or column (right) vector whose dimension is dropped from the result.
 * Accumulation is in double precision; the result is rounded once to its dtype.
 *
 * @module
 */

import { allocate, promote, type TypedArray } from "./dtype.ts";
import { sizeOf, Tensor } from "./tensor.ts";
import { broadcastShapes, broadcastStrides } from "./view.ts";
import { broadcastLoop } from "./elementwise.ts";

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
    (o, ia, ib) => gemm(A.data, ia * m * k, B.data, ib * k * n, out, o * m * n, m, k, n),
  );
  const shape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return new Tensor(out, shape);
}

/**
 * `C[m, n] = A[m, k] @ B[k, n]` on row-major blocks at the given offsets. The i-p-j loop order
 * walks B and C along rows, and four rows of C are accumulated together so each element of B read
 * serves four multiply-adds: about twice the speed of one row at a time, four times the textbook
 * i-j-p. A last group of fewer than four rows runs the same loop with zeros for the missing rows.
 */
function gemm(
  A: TypedArray,
  offA: number,
  B: TypedArray,
  offB: number,
  C: TypedArray,
  offC: number,
  m: number,
  k: number,
  n: number,
): void {
  const rows = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const [r0, r1, r2, r3] = rows as [Float64Array, Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < m; i += 4) {
    for (const r of rows) r.fill(0);
    const live = Math.min(4, m - i);
    const a = offA + i * k;
    for (let p = 0; p < k; p++) {
      const a0 = A[a + p]!;
      const a1 = live > 1 ? A[a + k + p]! : 0;
      const a2 = live > 2 ? A[a + 2 * k + p]! : 0;
      const a3 = live > 3 ? A[a + 3 * k + p]! : 0;
      const bp = offB + p * n;
      for (let j = 0; j < n; j++) {
        const b = B[bp + j]!;
        r0[j] = r0[j]! + a0 * b;
        r1[j] = r1[j]! + a1 * b;
        r2[j] = r2[j]! + a2 * b;
        r3[j] = r3[j]! + a3 * b;
      }
    }
    for (let r = 0; r < live; r++) C.set(rows[r]!, offC + (i + r) * n);
  }
}
