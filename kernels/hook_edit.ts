/**
 * Launchers for `hook_edit.wgsl`: an intervention on one hook's activation, spliced between the
 * forward pass' dispatches (`engine/hooks/gpu_runner.ts`). The activation `[B, X, Y, C]` is edited
 * in place over a `region` (rows, x and y ranges); where and how much travel in a small buffer,
 * not in the source, so every edit of one hook shape shares a pipeline. The float64 reference is
 * `engine/reference/hook_edit.ts`.
 *
 * @module
 */

import source from "./hook_edit.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
// The reference's option types, so one edit plan (`engine/hooks/edit_plan.ts`) drives either path.
import type {
  HookAddOptions,
  HookPatchOptions,
  HookRegion,
} from "../engine/reference/hook_edit.ts";

const WG = 256;

/** `[B, X, Y, C]` of `target`, after checking the region lies inside it. */
function dims(kernel: string, target: GpuTensor, region: HookRegion): number[] {
  if (target.shape.length !== 4) {
    throw new RangeError(`${kernel}: target [${target.shape}] is not [B, X, Y, C]`);
  }
  [region.rows, region.x, region.y].forEach(([lo, hi], axis) => {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || lo > hi) {
      throw new RangeError(`${kernel}: region [${lo}, ${hi}) on axis ${axis} is not a range`);
    }
    if (hi > target.shape[axis]!) {
      throw new RangeError(
        `${kernel}: region [${lo}, ${hi}) on axis ${axis} is outside [0, ${target.shape[axis]})`,
      );
    }
  });
  return [...target.shape];
}

/** One launch of `entryPoint` over the region, its params buffer and `extra` owned by the dispatch. */
async function launch(
  gpu: Gpu,
  entryPoint: "hook_patch_forward" | "hook_add_forward" | "hook_zero_forward",
  target: GpuTensor,
  edit: { region: HookRegion; scale: number; inputs: GpuTensor[]; owned: GpuTensor[] },
): Promise<Dispatch[]> {
  const [, X, Y, C] = dims(entryPoint, target, edit.region);
  const { rows, x, y } = edit.region;
  const scale = new Uint32Array(new Float32Array([edit.scale]).buffer)[0]!;
  const params = gpu.upload(
    new Int32Array(new Uint32Array([rows[0], rows[1], x[0], x[1], y[0], y[1], scale, 0]).buffer),
    [8],
  );
  const count = (rows[1] - rows[0]) * (x[1] - x[0]) * (y[1] - y[0]) * C!;
  return [
    await gpu.kernel({
      label: "hook_edit.wgsl",
      source: fillTemplate(source, { X: X!, Y: Y!, C: C! }),
      entryPoint,
      buffers: [target, params, ...edit.inputs],
      workgroups: grid1d(count, WG),
      scratch: [params, ...edit.owned],
    }),
  ];
}

/**
 * `target[r, i, j, c] = scale · source[rowmap[r − r0], i, j, c]` over the region: patching from a
 * cache, resampling, a mean from column sums, or a plain copy. `source` is `[S, X, Y, C]`.
 *
 * @example
 * ```ts ignore
 * // position 2 of rows 0..8 of hook_resid_pre [8, 3, 1, D] from a cache of 4 rows
 * const rowmap = Int32Array.from({ length: 8 }, (_, r) => r % 4);
 * gpu.run(await hookPatchForward(gpu, resid, cache, { region: { rows: [0, 8], x: [2, 3], y: [0, 1] }, rowmap }));
 * ```
 */
export async function hookPatchForward(
  gpu: Gpu,
  target: GpuTensor,
  source: GpuTensor,
  options: HookPatchOptions,
): Promise<Dispatch[]> {
  const { region, rowmap, scale = 1 } = options;
  const [, X, Y, C] = dims("hook_patch_forward", target, region);
  const S = source.shape[0] ?? 0;
  expectShape("hook_patch_forward", "source", source.shape, [S, X!, Y!, C!]);
  if (rowmap.length !== region.rows[1] - region.rows[0] || rowmap.some((s) => s < 0 || s >= S)) {
    throw new RangeError(
      `hook_patch_forward: rowmap must hold one row in [0, ${S}) per edited row`,
    );
  }
  // An empty binding is not allowed: a region of no rows still binds one entry.
  const map = gpu.upload(rowmap.length > 0 ? rowmap : new Int32Array(1));
  return await launch(gpu, "hook_patch_forward", target, {
    region,
    scale,
    inputs: [map, source],
    owned: [map],
  });
}

/**
 * `target[r, i, j, c] += scale · vector[c]` over the region: steering. `vector` is `[C]`.
 *
 * @example
 * ```ts ignore
 * gpu.run(await hookAddForward(gpu, resid, direction, { region, scale: 4 }));
 * ```
 */
export async function hookAddForward(
  gpu: Gpu,
  target: GpuTensor,
  vector: GpuTensor,
  options: HookAddOptions,
): Promise<Dispatch[]> {
  const C = dims("hook_add_forward", target, options.region)[3]!;
  expectShape("hook_add_forward", "vector", vector.shape, [C]);
  return await launch(gpu, "hook_add_forward", target, {
    region: options.region,
    scale: options.scale ?? 1,
    inputs: [vector],
    owned: [],
  });
}

/**
 * `target[r, i, j, c] = 0` over the region: zero ablation.
 *
 * @example
 * ```ts ignore
 * // head 2 of every row and position of hook_z [B, T, H, E]
 * gpu.run(await hookZeroForward(gpu, z, { region: { rows: [0, B], x: [0, T], y: [2, 3] } }));
 * ```
 */
export async function hookZeroForward(
  gpu: Gpu,
  target: GpuTensor,
  options: { region: HookRegion },
): Promise<Dispatch[]> {
  return await launch(gpu, "hook_zero_forward", target, {
    region: options.region,
    scale: 0,
    inputs: [],
    owned: [],
  });
}
