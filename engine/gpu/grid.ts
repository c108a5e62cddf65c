/**
 * Launch geometry shared by the kernels' launchers.
 *
 * @module
 */

/**
 * Workgroup counts covering `threads` invocations of a 1D kernel of `workgroupSize`, folded into
 * two dimensions where one would pass WebGPU's 65,535 limit. A kernel recovers its index as
 * `gid.x + gid.y * nwg.x * WG` and returns when it is past the end.
 *
 * @example
 * ```ts
 * import { grid1d } from "./grid.ts";
 * grid1d(1000, 256); // [4, 1]
 * grid1d(70_000 * 64, 64); // [35000, 2]
 * ```
 */
export function grid1d(threads: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroupSize));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/**
 * Checks that a tensor has the shape a kernel expects, naming the kernel and the operand.
 *
 * @example
 * ```ts
 * import { expectShape } from "./grid.ts";
 * expectShape("matmul", "a", [2, 3], [2, 3]); // passes
 * ```
 */
export function expectShape(
  kernel: string,
  operand: string,
  actual: readonly number[],
  expected: readonly number[],
): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new RangeError(`${kernel}: ${operand} has shape [${actual}], expected [${expected}]`);
  }
}
