/**
 * The unembedding (TransformerLens' `Unembed`) at the scored position, the last of each example,
 * and its backward. Shape letters: `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { addInplace, matmul, sumRows, zeroFill } from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/** Rows T-1, 2T-1, ... of `x` `[B, T, D]` as `[B, D]`: each example's scored position. */
function lastPosition(c: ModelContext, x: GpuTensor) {
  return { tensor: x, offset: (c.T - 1) * c.D, ld: c.T * c.D };
}

/**
 * The logits `[B, U]` at the last position of `x` `[B, T, D]` (ln_final's output).
 *
 * @example
 * ```ts ignore
 * const logits = await unembed.forward(c, final.y);
 * ```
 */
export async function forward(c: ModelContext, x: GpuTensor): Promise<GpuTensor> {
  const logits = c.hook("logits", [c.B, c.U]);
  const dims = { m: c.B, n: c.U, k: c.D };
  await c.fwd(matmul(c.gpu, lastPosition(c, x), c.param("unembed.W_U"), logits, dims));
  if (c.biases) await c.fwd(addInplace(c.gpu, logits, c.param("unembed.b_U")));
  c.done("logits");
  return logits;
}

/**
 * From `dlogits` `[B, U]`: the gradients of W_U and b_U (overwritten), and that of `x`
 * `[B, T, D]`, returned: only the scored position gets one, the other rows are zero.
 *
 * @example
 * ```ts ignore
 * const dFinal = await unembed.backward(c, final.y, dlogits);
 * ```
 */
export async function backward(
  c: ModelContext,
  x: GpuTensor,
  dlogits: GpuTensor,
): Promise<GpuTensor> {
  const { gpu, B, T, D, U } = c;
  const last = lastPosition(c, x);
  if (c.biases) await c.bwd(sumRows(gpu, dlogits, c.grad("unembed.b_U")));
  await c.bwd(
    matmul(gpu, last, dlogits, c.grad("unembed.W_U"), { m: D, n: U, k: B, transA: true }),
  );
  const dx = c.fresh([B, T, D]);
  await c.bwd(zeroFill(gpu, dx));
  const dims = { m: B, n: D, k: U, transB: true };
  await c.bwd(matmul(gpu, dlogits, c.param("unembed.W_U"), { ...last, tensor: dx }, dims));
  return dx;
}
