/**
 * The unembedding (TransformerLens' `Unembed`) at the scored positions and its backward: each
 * example's last position (S = B rows, read with a stride) or every position (S = R). Shape
 * letters: `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import type { MatmulOperand } from "../../../kernels/mod.ts";
import { addInplace, matmul, zeroFill } from "../../../kernels/mod.ts";
import { rowsPerBinding } from "./binding.ts";
import type { ModelContext } from "./context.ts";

/**
 * The scored rows of `x` `[B, T, D]` as `[S, D]`: rows T-1, 2T-1, ..., or all of them (`x` is then
 * those rows alone, as is a last block's `[B, 1, D]` at the last position: `tailAtLast`).
 */
function scoredRows(c: ModelContext, x: GpuTensor) {
  if (x.size === c.S * c.D) return { tensor: x, offset: 0, ld: c.D };
  return { tensor: x, offset: (c.T - 1) * c.D, ld: c.T * c.D };
}

/**
 * The logits `[S, U]` at the scored positions of `x` `[B, T, D]` (ln_final's output); a `W_U` over
 * the adapter's binding size is bound in blocks of its rows, their products summed.
 *
 * @example
 * ```ts ignore
 * const logits = await unembed.forward(c, final.y);
 * ```
 */
export async function forward(c: ModelContext, x: GpuTensor): Promise<GpuTensor> {
  const logits = c.hook("logits", [c.S, c.U]);
  const scored = c.rows(scoredRows(c, x)) as MatmulOperand;
  const W_U = c.param("unembed.W_U"); // [D, U]
  const rows = rowsPerBinding(c, c.D, c.U);
  for (let d0 = 0; d0 < c.D; d0 += rows) {
    // x[:, d0 : d0 + k] · W_U[d0 : d0 + k, :], the blocks' products summed into the logits.
    const k = Math.min(rows, c.D - d0);
    const part = d0 === 0 ? logits : c.scratch("unembed.part", [c.S, c.U]);
    // x bound from column d0 where that starts on 256 bytes: the blocks' products are then one
    // kernel source (one pipeline), not one per offset.
    const shift = (scored.tensor.offset + 4 * d0) % 256 === 0 ? d0 : 0;
    const a = {
      ...scored,
      tensor: scored.tensor.view(shift, [1, scored.tensor.size - shift]),
      offset: (scored.offset ?? 0) + d0 - shift,
    };
    const block = W_U.view(d0 * c.U, [k, c.U]);
    const b = c.G === 1 ? block : { tensor: block, memberStride: c.PS };
    const dims = c.mm({ m: c.Sm, n: c.U, k });
    await c.fwd(matmul(c.gpu, a, b, c.rows(part, c.U), dims));
    if (d0 > 0) await c.fwd(addInplace(c.gpu, logits, part));
  }
  if (c.biases) await c.fwd(addInplace(c.gpu, logits, c.param("unembed.b_U"), c.members));
  c.done("logits");
  return logits;
}

/**
 * From `dlogits` `[S, U]`: the gradients of W_U and b_U (overwritten), and that of `x`
 * `[B, T, D]` (or `[B, 1, D]`), returned: zero at the positions that are not scored.
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
  const { gpu, D, S, U } = c;
  const scored = scoredRows(c, x);
  const dy = c.rows(dlogits, U);
  if (c.biases) await c.biasGrad(dlogits, "unembed.b_U");
  const dW = c.mm({ m: D, n: U, k: c.Sm, transA: true });
  await c.bwd(matmul(gpu, c.rows(scored), dy, c.dw("unembed.W_U"), dW));
  const dx = c.fresh([...x.shape]); // [B, T, D]
  if (S * D < x.size) await c.bwd(zeroFill(gpu, dx));
  const dims = c.mm({ m: c.Sm, n: D, k: U, transB: true });
  await c.bwd(matmul(gpu, dy, c.w("unembed.W_U"), c.rows({ ...scored, tensor: dx }), dims));
  return dx;
}
