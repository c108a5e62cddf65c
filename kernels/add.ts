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
  expectShape,
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

/** One launch of `entryPoint` over the elements of `x`, with `b` broadcast over them. */
async function launch(
  gpu: Gpu,
  entryPoint: "add_forward" | "add_inplace" | "fill",
  buffers: GpuTensor[],
  x: GpuTensor,
  b: GpuTensor,
  members: { count: number; stride: number } = { count: 1, stride: 0 },
): Promise<Dispatch[]> {
  checkBroadcast(entryPoint, x, b);
  const G = members.count;
  if (x.size % G !== 0) throw new RangeError(`${entryPoint}: [${x.shape}] is not ${G} members'`);
  // Member g's `b` is `stride` elements after member g - 1's: one binding reaching all of them.
  const wide = G === 1 ? b : b.view(0, [(G - 1) * members.stride + b.size]);
  return [
    await gpu.kernel({
      label: "add.wgsl",
      source: fillTemplate(source, { N: x.size, B: b.size, G, BS: members.stride }),
      entryPoint,
      buffers: buffers.map((t) => t === b && t !== x ? wide : t),
      workgroups: grid1d(x.size, 256),
    }),
  ];
}

/**
 * `out = a + b`, `b`'s shape a suffix of `a`'s, `out` shaped as `a`.
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
  expectShape("add_forward", "out", out.shape, a.shape);
  return await launch(gpu, "add_forward", [a, b, out], a, b);
}

/**
 * `x += b`, `b`'s shape a suffix of `x`'s: gradient accumulation.
 *
 * @example
 * ```ts ignore
 * gpu.run(await addInplace(gpu, dResid, dFromMlp));
 * ```
 */
export async function addInplace(
  gpu: Gpu,
  x: GpuTensor,
  b: GpuTensor,
  members?: { count: number; stride: number },
): Promise<Dispatch[]> {
  return await launch(gpu, "add_inplace", [x, b], x, b, members);
}

/**
 * `x = 0`, as a dispatch, so it can sit inside a training step's pass.
 *
 * @example
 * ```ts ignore
 * gpu.run(await zeroFill(gpu, dResidFinal));
 * ```
 */
export async function zeroFill(gpu: Gpu, x: GpuTensor): Promise<Dispatch[]> {
  return await launch(gpu, "fill", [x], x, x);
}
