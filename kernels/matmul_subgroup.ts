/**
 * Launcher for `matmul_subgroup.wgsl`: the batched product of `matmul.ts` in tiles of 128 or 64
 * rows by 64 columns (32 where N is an odd multiple of 32: an attention head's d_head), one
 * 8-lane subgroup each, A shared between the lanes by `subgroupBroadcast`, for software adapters
 * whose subgroups are 8 wide (llvmpipe), where loads from storage cost far more than arithmetic.
 * It takes whole tiles only; `matmul.ts` gives other products to `matmul_direct.ts`.
 *
 * @module
 */

import source from "./matmul_subgroup.wgsl" with { type: "text" };
import {
  type Dispatch,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import { blocks, type DirectShape, operandConstants, type OperandLayout } from "./matmul_direct.ts";

/** M must be a multiple of this: the fewest rows of C a workgroup computes. */
const MIN_ROWS = 64;

/**
 * Rows of C a workgroup computes (`TILE` in the shader): 128 where M allows, else 64. A taller tile
 * loads fewer floats a flop (the cost on llvmpipe): 1.0 to 1.3× the 64-row tile on tinygpt's
 * products by CPU time, all but dW_out (0.93×) (bench/RESULTS.md).
 */
function tileRows(m: number): number {
  return m % 128 === 0 ? 128 : 64;
}

/**
 * Vec4 columns of C a lane computes (`CV` in the shader): 2 (64-column tiles) where N allows,
 * else 1 (32 columns: a head's d_head of 32).
 */
function columnVec4s(n: number): number {
  return n % 64 === 0 ? 2 : 1;
}

/** A product's shape as `matmul_direct.ts` has it, and whether B and C are vec4-aligned too. */
export interface SubgroupShape extends DirectShape {
  alignedBC: boolean;
}

/**
 * Whether `matmul_subgroup.wgsl` computes this product on `gpu`: an adapter whose subgroups are 8
 * lanes, M a multiple of 64, N of 32, K of 4, every operand vec4-aligned, and not both
 * operands transposed.
 *
 * @example
 * ```ts ignore
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false };
 * subgroupFits(gpu, { ...shape, alignedA: true, alignedBC: true }); // true on lavapipe
 * subgroupFits(gpu, { ...shape, n: 32, alignedA: true, alignedBC: true }); // true: 64×32 tiles
 * subgroupFits(gpu, { ...shape, n: 48, alignedA: true, alignedBC: true }); // false: 48 columns
 * ```
 */
export function subgroupFits(gpu: Pick<Gpu, "adapter">, shape: SubgroupShape): boolean {
  const { m, n, k, batch, transA, transB, alignedA, alignedBC } = shape;
  return gpu.adapter.subgroupSize === 8 && alignedA && alignedBC && m > 0 && n > 0 && k > 0 &&
    batch > 0 && m % MIN_ROWS === 0 && n % 32 === 0 && k % 4 === 0 && !(transA && transB);
}

/**
 * The one dispatch of `C[z] = op(A[z]) · op(B[z])` by `matmul_subgroup.wgsl`, over tensors whose
 * layouts `matmul` has resolved and checked. Throws a `RangeError` when `subgroupFits` says no.
 *
 * @example
 * ```ts ignore
 * const la = { ld: 128, stride: 0, offset: 0, outer: 0, align: true };
 * const shape = { m: 2048, n: 512, k: 128, batch: 1, transA: false, transB: false };
 * const fits = { ...shape, alignedA: true, alignedBC: true };
 * gpu.run([await matmulSubgroup(gpu, [x, W_in, pre], fits, [la, lb, lc])]);
 * ```
 */
export async function matmulSubgroup(
  gpu: Gpu,
  buffers: [GpuTensor, GpuTensor, GpuTensor],
  shape: SubgroupShape,
  layouts: [OperandLayout, OperandLayout, OperandLayout],
): Promise<Dispatch> {
  if (!subgroupFits(gpu, shape)) {
    const { m, n, k, transA, transB } = shape;
    throw new RangeError(
      `matmul: the subgroup kernel needs 8-lane subgroups, M a multiple of ${MIN_ROWS}, N of 32, ` +
        `K of 4, vec4-aligned operands and one transpose at most; got ${m}×${k}×${n}` +
        `${transA ? " transA" : ""}${transB ? " transB" : ""}`,
    );
  }
  const [rows, cv] = [tileRows(shape.m), columnVec4s(shape.n)];
  const filled = fillTemplate(source, { ...operandConstants(shape, layouts), TILE: rows, CV: cv });
  return await gpu.kernel({
    label: "matmul_subgroup.wgsl",
    source: filled,
    entryPoint: "matmul_subgroup",
    buffers,
    workgroups: grid1d(blocks(shape, rows, 32 * cv), 1),
  });
}
