/**
 * Launcher for `matmul_direct.wgsl`: the batched product of `matmul.ts` without workgroup memory
 * or barriers, each invocation an 8×8 block of C read straight from the operands, for software
 * adapters (llvmpipe), where it runs about 1.8× as fast as the tiled kernel. It takes any M and N
 * and unaligned B and C (GPT-2's unembedding), but A must be read as vec4s; `matmul.ts` decides
 * and falls back to the tiled kernel otherwise.
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
 * A product's sizes, its transposes, and whether A's layout is vec4-aligned; `batch` products for
 * each of `members` (default 1: `MatmulOptions.members`).
 */
export interface DirectShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  /** A's offset, row, batch and member strides are multiples of 4 (B's and C's need not be). */
  alignedA: boolean;
  members?: number;
}

/** Invocations of a workgroup; `WG` in the shader. */
const WG = 64;

/**
 * Whether `matmul_direct.wgsl` computes this product: A vec4-aligned, K a multiple of 4 where it
 * reads vec4s along K (A not transposed), and not both operands transposed. Any M and N: the last
 * row and column blocks are cut short.
 *
 * @example
 * ```ts
 * import { directFits } from "./matmul_direct.ts";
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false, alignedA: true };
 * directFits(shape); // true
 * directFits({ ...shape, n: 50257 }); // true: GPT-2's unembedding, its last block ragged
 * directFits({ ...shape, k: 130 }); // false: K is read as vec4s along A's rows
 * ```
 */
export function directFits(shape: DirectShape): boolean {
  const { m, n, k, batch, transA, transB, alignedA } = shape;
  return alignedA && m > 0 && n > 0 && k > 0 && batch > 0 && !(transA && transB) &&
    (transA || k % 4 === 0);
}

/**
 * The one dispatch of `C[z] = op(A[z]) · op(B[z])` by `matmul_direct.wgsl`, over tensors whose
 * layouts `matmul` has resolved and checked. Throws a `RangeError` when `directFits` says no.
 *
 * @example
 * ```ts ignore
 * const la = { ld: 128, stride: 0, offset: 0, outer: 0, align: true };
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false, alignedA: true };
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
      `matmul: the direct kernel needs K a multiple of 4 (untransposed A), ` +
        `a vec4-aligned A and one transpose at most; got ${m}×${k}×${n}` +
        `${transA ? " transA" : ""}${transB ? " transB" : ""}`,
    );
  }
  const [, lb, lc] = layouts;
  const filled = fillTemplate(source, {
    ...operandConstants(shape, layouts),
    ALIGN_B: lb.align,
    ALIGN_C: lc.align,
  });
  return await gpu.kernel({
    label: "matmul_direct.wgsl",
    source: filled,
    entryPoint: "matmul_direct",
    buffers,
    workgroups: grid1d(blocks(shape, 8), WG),
  });
}

/**
 * The shader constants a product's shape and operand layouts give `matmul_direct.wgsl` and
 * `matmul_subgroup.wgsl`: sizes, transposes, batch `Z` and members `G`, and each operand's offset,
 * row stride (`LD*`), batch stride and member stride (`OUTER_*`), in floats (each shader counts
 * them in its own units).
 *
 * @example
 * ```ts
 * import { operandConstants } from "./matmul_direct.ts";
 * const la = { ld: 8, stride: 0, offset: 4, outer: 0, align: true };
 * const shape = { m: 8, n: 8, k: 8, batch: 1, transA: false, transB: false, alignedA: true };
 * operandConstants(shape, [la, la, la]).OFF_A; // 4
 * ```
 */
export function operandConstants(
  shape: DirectShape,
  [la, lb, lc]: readonly [OperandLayout, OperandLayout, OperandLayout],
): Record<string, number | boolean> {
  const { m, n, k, batch, transA, transB } = shape;
  return {
    M: m,
    N: n,
    K: k,
    TRANS_A: transA,
    TRANS_B: transB,
    OFF_A: la.offset,
    OFF_B: lb.offset,
    OFF_C: lc.offset,
    LDA: la.ld,
    LDB: lb.ld,
    LDC: lc.ld,
    STRIDE_A: la.stride,
    STRIDE_B: lb.stride,
    STRIDE_C: lc.stride,
    Z: batch,
    G: shape.members ?? 1,
    OUTER_A: la.outer,
    OUTER_B: lb.outer,
    OUTER_C: lc.outer,
  };
}

/**
 * Blocks of `tile` × `width` (default `tile`) in C over every product and member (ragged edges
 * rounded up): the invocations or workgroups a launch needs.
 *
 * @example
 * ```ts
 * import { blocks } from "./matmul_direct.ts";
 * const shape = { m: 9, n: 16, k: 4, batch: 2, transA: false, transB: false, alignedA: true };
 * blocks(shape, 8); // 2 · 2 · 2 = 8
 * blocks(shape, 8, 16); // 2 · 2 · 1 = 4
 * ```
 */
export function blocks(shape: DirectShape, tile: number, width = tile): number {
  const { m, n, batch } = shape;
  return (shape.members ?? 1) * batch * Math.ceil(m / tile) * Math.ceil(n / width);
}
