/**
 * Edits of one hook's activation in float64: the reference of `kernels/hook_edit.wgsl`, and what
 * the CPU runner's interventions (`engine/hooks/`) are made of. The activation is read as
 * `x [B, X, Y, C]` (batch, two middle axes, last axis): `[batch, pos, head, d_head]` as it is, and
 * `[batch, pos, d_model]` as `[batch, pos, 1, d_model]`. An edit touches only a block of it, the
 * `region`: rows `[r0, r1)`, `x [x0, x1)`, `y [y0, y1)`, every `c`.
 *
 *     patch:  x[r, i, j, c] = scale · source[rowmap[r − r0], i, j, c]     (source [S, X, Y, C])
 *     add:    x[r, i, j, c] += scale · vector[c]                          (vector [C])
 *     zero:   x[r, i, j, c] = 0
 *
 * `rowmap` picks the source row of each edited row: `(r − r0) mod S` patches from another input's
 * cache, a permutation resamples, all zeros with `scale = 1/n` spreads a sum over `n` rows (their
 * mean). Edits have no backward: they run in analyses, never in training.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** The block of `[B, X, Y, C]` an edit touches: `[start, end)` on each of the first three axes. */
export interface HookRegion {
  rows: readonly [number, number];
  x: readonly [number, number];
  y: readonly [number, number];
}

/** What `hookPatchForward` copies from. */
export interface HookPatchOptions {
  region: HookRegion;
  /** `[r1 − r0]`: the row of `source` each edited row takes. */
  rowmap: Int32Array;
  /** What multiplies the source: 1 by default. */
  scale?: number;
}

/** What `hookAddForward` adds: `scale · vector` to each edited `[C]` line. */
export interface HookAddOptions {
  region: HookRegion;
  /** 1 by default. */
  scale?: number;
}

/** `[B, X, Y, C]` of `x`, after checking `region` lies inside it. */
function dims(kernel: string, x: Tensor, region: HookRegion): [number, number, number, number] {
  if (x.ndim !== 4) throw new RangeError(`${kernel}: x has shape [${x.shape}], not [B, X, Y, C]`);
  const shape = x.shape as unknown as [number, number, number, number];
  const ranges = [region.rows, region.x, region.y];
  ranges.forEach(([lo, hi], axis) => {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > shape[axis]! || lo > hi) {
      throw new RangeError(
        `${kernel}: region [${lo}, ${hi}) on axis ${axis} is outside [0, ${shape[axis]})`,
      );
    }
  });
  return shape;
}

/** Calls `fn(r, flat index of [r, i, j, 0])` for every edited `[C]` line of `x`. */
function eachLine(
  shape: [number, number, number, number],
  region: HookRegion,
  fn: (r: number, i: number, j: number, at: number) => void,
): void {
  const [, X, Y, C] = shape;
  for (let r = region.rows[0]; r < region.rows[1]; r++) {
    for (let i = region.x[0]; i < region.x[1]; i++) {
      for (let j = region.y[0]; j < region.y[1]; j++) fn(r, i, j, ((r * X + i) * Y + j) * C);
    }
  }
}

/**
 * `x` with its region set to `scale · source[rowmap[r − r0]]`, row by edited row.
 *
 * @example
 * ```ts
 * import { hookPatchForward } from "./hook_edit.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const x = tensor([1, 2, 3, 4], [2, 2, 1, 1]); // B 2, X 2 (positions)
 * const source = tensor([10, 20], [1, 2, 1, 1]);
 * const region = { rows: [0, 2], x: [1, 2], y: [0, 1] } as const; // position 1 of both rows
 * hookPatchForward(x, source, { region, rowmap: new Int32Array([0, 0]) }).toArray();
 * // Float64Array [1, 20, 3, 20]
 * ```
 */
export function hookPatchForward(x: Tensor, source: Tensor, options: HookPatchOptions): Tensor {
  const { region, rowmap, scale = 1 } = options;
  const shape = dims("hook_patch_forward", x, region);
  const [, X, Y, C] = shape;
  const S = source.shape[0] ?? 0;
  if (source.shape.join() !== [S, X, Y, C].join() || S < 1) {
    throw new RangeError(
      `hook_patch_forward: source [${source.shape}] is not [S, ${X}, ${Y}, ${C}]`,
    );
  }
  if (rowmap.length !== region.rows[1] - region.rows[0] || rowmap.some((s) => s < 0 || s >= S)) {
    throw new RangeError(
      `hook_patch_forward: rowmap must hold one row in [0, ${S}) per edited row`,
    );
  }
  const out = Float64Array.from(x.data);
  eachLine(shape, region, (r, i, j, at) => {
    const from = ((rowmap[r - region.rows[0]]! * X + i) * Y + j) * C;
    for (let c = 0; c < C; c++) out[at + c] = scale * source.data[from + c]!;
  });
  return new Tensor(out, x.shape);
}

/**
 * `x` with `scale · vector` added to each `[C]` line of its region: steering.
 *
 * @example
 * ```ts
 * import { hookAddForward } from "./hook_edit.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const x = tensor([1, 2, 3, 4], [2, 1, 1, 2]); // B 2, C 2
 * const region = { rows: [1, 2], x: [0, 1], y: [0, 1] } as const;
 * hookAddForward(x, tensor([1, -1]), { region, scale: 2 }).toArray(); // Float64Array [1, 2, 5, 2]
 * ```
 */
export function hookAddForward(x: Tensor, vector: Tensor, options: HookAddOptions): Tensor {
  const { region, scale = 1 } = options;
  const shape = dims("hook_add_forward", x, region);
  const C = shape[3];
  if (vector.shape.join() !== `${C}`) {
    throw new RangeError(`hook_add_forward: vector [${vector.shape}] is not [${C}]`);
  }
  const out = Float64Array.from(x.data);
  eachLine(shape, region, (_r, _i, _j, at) => {
    for (let c = 0; c < C; c++) out[at + c] = out[at + c]! + scale * vector.data[c]!;
  });
  return new Tensor(out, x.shape);
}

/**
 * `x` with its region set to zero: ablation.
 *
 * @example
 * ```ts
 * import { hookZeroForward } from "./hook_edit.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]); // Y 2 (heads), C 2
 * hookZeroForward(x, { region: { rows: [0, 1], x: [0, 1], y: [1, 2] } }).toArray();
 * // Float64Array [1, 2, 0, 0]
 * ```
 */
export function hookZeroForward(x: Tensor, options: { region: HookRegion }): Tensor {
  const shape = dims("hook_zero_forward", x, options.region);
  const out = Float64Array.from(x.data);
  eachLine(shape, options.region, (_r, _i, _j, at) => out.fill(0, at, at + shape[3]));
  return new Tensor(out, x.shape);
}
