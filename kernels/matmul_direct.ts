/**
 * Launcher for `matmul_direct.wgsl`: the batched product of `matmul.ts` without workgroup memory
 * or barriers, each invocation an 8×8 block of C read straight from the operands, for software
 * adapters (llvmpipe), where it runs about 1.8× as fast as the tiled kernel. It takes only
 * products whose shapes and layouts need no bounds test; `matmul.ts` decides and falls back to the
 * tiled kernel otherwise.
 *
 * @module
 */

import source from "./matmul_direct.wgsl" with { type: "text" };
import {
  type Dispatch,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/**
 * An operand's layout in elements: row stride, batch stride, offset, member stride (`outer`, 0
 * with one member); `align` when all are %4.
 */
export interface OperandLayout {
  ld: number;
  stride: number;
  offset: number;
  outer: number;
  align: boolean;
}

/**
 * A product's sizes, its transposes, and whether every operand's layout is vec4-aligned; `batch`
 * products for each of `members` (default 1: `MatmulOptions.members`).
 */
export interface DirectShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  aligned: boolean;
  members?: number;
}

/** Invocations of a workgroup; `WG` in the shader. */
const WG = 64;

/**
 * Whether `matmul_direct.wgsl` computes this product: M and N multiples of 8 (its blocks), K a
 * multiple of 4 where it reads vec4s along K (A not transposed), every operand vec4-aligned, and
 * not both operands transposed.
 *
 * @example
 * ```ts
 * import { directFits } from "./matmul_direct.ts";
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false, aligned: true };
 * directFits(shape); // true
 * directFits({ ...shape, n: 60 }); // false: 60 columns are not blocks of 8
 * ```
 */
export function directFits(shape: DirectShape): boolean {
  const { m, n, k, batch, transA, transB, aligned } = shape;
  return aligned && m > 0 && n > 0 && k > 0 && batch > 0 && m % 8 === 0 && n % 8 === 0 &&
    !(transA && transB) && (transA || k % 4 === 0);
}

/**
 * The one dispatch of `C[z] = op(A[z]) · op(B[z])` by `matmul_direct.wgsl`, over tensors whose
 * layouts `matmul` has resolved and checked. Throws a `RangeError` when `directFits` says no.
 *
 * @example
 * ```ts ignore
 * const la = { ld: 128, stride: 0, offset: 0, outer: 0, align: true };
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false, aligned: true };
 * gpu.run([await matmulDirect(gpu, [x, W_in, pre], shape, [la, lb, lc])]);
 * ```
 */
export async function matmulDirect(
  gpu: Gpu,
  buffers: [GpuTensor, GpuTensor, GpuTensor],
  shape: DirectShape,
  layouts: [OperandLayout, OperandLayout, OperandLayout],
): Promise<Dispatch> {
  if (!directFits(shape)) {
    const { m, n, k, transA, transB } = shape;
    throw new RangeError(
      `matmul: the direct kernel needs M, N multiples of 8, K of 4 (untransposed A), ` +
        `vec4-aligned operands and one transpose at most; got ${m}×${k}×${n}` +
        `${transA ? " transA" : ""}${transB ? " transB" : ""}`,
    );
  }
  const [la, lb, lc] = layouts;
  const { m, n, k, batch, transA, transB } = shape;
  const G = shape.members ?? 1;
  const filled = fillTemplate(source, {
    M: m,
    N: n,
    K: k,
    TRANS_A: transA,
    TRANS_B: transB,
    OFF_A: la.offset / 4,
    OFF_B: lb.offset / 4,
    OFF_C: lc.offset / 4,
    LDA: la.ld / 4,
    LDB: lb.ld / 4,
    LDC: lc.ld / 4,
    STRIDE_A: la.stride / 4,
    STRIDE_B: lb.stride / 4,
    STRIDE_C: lc.stride / 4,
    Z: batch,
    G,
    OUTER_A: la.outer / 4,
    OUTER_B: lb.outer / 4,
    OUTER_C: lc.outer / 4,
  });
  return await gpu.kernel({
    label: "matmul_direct.wgsl",
    source: filled,
    entryPoint: "matmul_direct",
    buffers,
    workgroups: grid1d(G * batch * (m / 8) * (n / 8), WG),
  });
}
