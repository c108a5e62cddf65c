/**
 * Launchers for `add.wgsl`: `out = a + b` and `x += b`, with `b` broadcast over leading
 * dimensions (a bias over rows, or the same shape for a residual). The reference is the tensor
 * library's `add`.
 *
 * @module
 */

import source from "./add.wgsl" with { type: "text" };
import {
  type Dispatch,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/** The shape of `b` must be a suffix of the shape of `a`. */
function checkBroadcast(kernel: string, a: GpuTensor, b: GpuTensor): void {
  const suffix = a.shape.slice(a.shape.length - b.shape.length);
  if (b.shape.length > a.shape.length || suffix.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${kernel}: [${b.shape}] does not broadcast over [${a.shape}]`);
  }
}

/**
 * `out = a + b`, `b`'s shape a suffix of `a`'s.
 *
 * @example
 * ```ts ignore
 * gpu.run(await addForward(gpu, x, bias, out)); // [rows, C] + [C]
 * ```
 */
export async function addForward(
  gpu: Gpu,
  a: GpuTensor,
  b: GpuTensor,
  out: GpuTensor,
): Promise<Dispatch[]> {
  checkBroadcast("add_forward", a, b);
  checkBroadcast("add_forward", out, a);
  const filled = fillTemplate(source, { N: a.size, B: b.size });
  return [
    await gpu.kernel({
      label: "add.wgsl",
      source: filled,
      entryPoint: "add_forward",
      buffers: [a, b, out],
      workgroups: grid1d(a.size, 256),
    }),
  ];
}

/**
 * `x += b`, `b`'s shape a suffix of `x`'s: gradient accumulation.
 *
 * @example
 * ```ts ignore
 * gpu.run(await addInplace(gpu, dResid, dFromMlp));
 * ```
 */
export async function addInplace(gpu: Gpu, x: GpuTensor, b: GpuTensor): Promise<Dispatch[]> {
  checkBroadcast("add_inplace", x, b);
  const filled = fillTemplate(source, { N: x.size, B: b.size });
  return [
    await gpu.kernel({
      label: "add.wgsl",
      source: filled,
      entryPoint: "add_inplace",
      buffers: [x, b],
      workgroups: grid1d(x.size, 256),
    }),
  ];
}
