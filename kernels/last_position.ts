/**
 * Launchers for `last_position.wgsl`: each example's last position out of `[B, T, C]` (the rows a
 * one-answer task scores, so a model trained on them runs its last MLP there alone), and the
 * gradient back. The reference is the tensor library's `slice(x, ":, -1")`; the backward's is its
 * transpose, 0 at every other position.
 *
 * @module
 */

import source from "./last_position.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/** One launch of `entryPoint`, `buffers` in its binding order, over the elements of `out`. */
async function launch(
  gpu: Gpu,
  entryPoint: "last_position_forward" | "last_position_backward",
  shapes: { full: GpuTensor; last: GpuTensor },
  buffers: [GpuTensor, GpuTensor],
): Promise<Dispatch[]> {
  const { full, last } = shapes;
  if (full.shape.length !== 3) {
    throw new RangeError(`${entryPoint}: [${full.shape}] is not [B, T, C]`);
  }
  const [B, T, C] = full.shape as [number, number, number];
  expectShape(entryPoint, "last position", last.shape, [B, 1, C]);
  return [
    await gpu.kernel({
      label: "last_position.wgsl",
      source: fillTemplate(source, { B, T, C }),
      entryPoint,
      buffers,
      workgroups: grid1d(buffers[1].size, 256),
    }),
  ];
}

/**
 * `y [B, 1, C] = x[:, -1:, :]` of `x [B, T, C]`.
 *
 * @example
 * ```ts ignore
 * gpu.run(await lastPositionForward(gpu, resid, residLast)); // [B, T, D] → [B, 1, D]
 * ```
 */
export async function lastPositionForward(
  gpu: Gpu,
  x: GpuTensor,
  y: GpuTensor,
): Promise<Dispatch[]> {
  return await launch(gpu, "last_position_forward", { full: x, last: y }, [x, y]);
}

/**
 * `dx [B, T, C]` = `dy [B, 1, C]` at each example's last position, 0 elsewhere (overwritten).
 *
 * @example
 * ```ts ignore
 * gpu.run(await lastPositionBackward(gpu, dresidLast, dresid)); // [B, 1, D] → [B, T, D]
 * ```
 */
export async function lastPositionBackward(
  gpu: Gpu,
  dy: GpuTensor,
  dx: GpuTensor,
): Promise<Dispatch[]> {
  return await launch(gpu, "last_position_backward", { full: dx, last: dy }, [dy, dx]);
}
