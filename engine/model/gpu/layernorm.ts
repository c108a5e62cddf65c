/**
 * LayerNorm (TransformerLens' `LayerNorm`: `ln1`, `ln2`, `ln_final`) and its backward; a model
 * without LayerNorm (`normalization_type` null) passes its input through, and `LNPre` (an imported
 * model's, forward only) is the same kernel with `w` = 1 and `b` = 0. Shape letters:
 * `context.ts`; `[..., D]` is `[B, T, D]` here.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { addInplace, layernormBackward, layernormForward } from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/** One LayerNorm's forward: its input, its output, and what its backward reads. */
export interface Norm {
  /** `[..., D]`: the input. */
  x: GpuTensor;
  /** `[..., D]`: the output (`x` itself without LayerNorm). */
  y: GpuTensor;
  /** `y`, and `mean`, `scale` `[...]` per row; undefined without LayerNorm. */
  saved: { y: GpuTensor; mean: GpuTensor; scale: GpuTensor } | undefined;
}

/**
 * LayerNorm `name` (`blocks.0.ln1`) of `x`, when the model has them.
 *
 * @example
 * ```ts ignore
 * const ln1 = await layernorm.forward(c, "blocks.0.ln1", resid);
 * ```
 */
export async function forward(c: ModelContext, name: string, x: GpuTensor): Promise<Norm> {
  if (c.cfg.normalization_type === null) return { x, y: x, saved: undefined };
  const rowShape = x.shape.slice(0, -1); // [...]
  const saved = {
    y: c.hook(`${name}.hook_normalized`, [...x.shape]), // [..., D]
    mean: c.fresh(rowShape),
    scale: c.fresh(rowShape),
  };
  c.hooks.set(`${name}.hook_scale`, saved.scale.view(0, [...rowShape, 1])); // [..., 1], as TL
  const [w, b] = c.cfg.normalization_type === "LN"
    ? [c.param(`${name}.w`), c.param(`${name}.b`)]
    : unitNorm(c);
  await c.fwd(layernormForward(c.gpu, x, w, b, saved, { eps: c.cfg.eps }));
  c.done(`${name}.hook_scale`, `${name}.hook_normalized`);
  return { x, y: saved.y, saved };
}

/**
 * `dresid` `[..., D]` += the gradient that reaches `n.x` through LayerNorm `name` from `dy`
 * `[..., D]`; the gradients of its w and b are overwritten.
 *
 * @example
 * ```ts ignore
 * await layernorm.backward(c, "blocks.0.ln1", ln1, dSub, dresid);
 * ```
 */
export async function backward(
  c: ModelContext,
  name: string,
  n: Norm,
  dy: GpuTensor,
  dresid: GpuTensor,
): Promise<void> {
  if (n.saved === undefined) {
    await c.bwd(addInplace(c.gpu, dresid, dy));
    return;
  }
  const grads = { dx: dresid, dw: c.grad(`${name}.w`), db: c.grad(`${name}.b`) };
  const w = c.param(`${name}.w`);
  await c.bwd(layernormBackward(c.gpu, n.x, w, n.saved, dy, grads, { accumulate: true }));
}

/** LNPre's `w` = 1 and `b` = 0 `[D]`, one pair for the whole model (written once, never changed). */
function unitNorm(c: ModelContext): [GpuTensor, GpuTensor] {
  const [w, b] = [c.scratch("lnpre.w", [c.D]), c.scratch("lnpre.b", [c.D])];
  c.gpu.write(w, new Float32Array(c.D).fill(1));
  c.gpu.write(b, new Float32Array(c.D));
  return [w, b];
}
