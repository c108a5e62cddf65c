/**
 * Interventions turned into the three edits `hook_edit` knows (patch, add, zero) over a region of
 * the hook read as `[B, X, Y, C]`: one plan that the CPU runner carries out with the float64
 * reference and the GPU runner with the kernel, so both mean the same thing by every field.
 *
 * How each hook is read: `[B, T, D]` (and `[B, T, M]`, `[B, T, 1]`) as `[B, T, 1, D]`, `pos` on X;
 * `[B, T, H, E]` as it is, `pos` on X and `head` on Y; `[B, H, T, T]` (`hook_pattern`,
 * `hook_attn_scores`) as it is, `head` on X and the query position on Y.
 *
 * @module
 */

import {
  hookAddForward,
  hookPatchForward,
  type HookRegion,
  hookZeroForward,
} from "../reference/mod.ts";
import { mean, permutation, slice, type Tensor } from "../tensor/mod.ts";
import type { HookPoint, Intervention } from "./types.ts";

/**
 * Where a patch's rows come from: a given tensor, this hook's own rows, or the mean of its edited
 * rows (the region's `rows`).
 */
export type PatchSource = Tensor | "self" | "mean";

/** One edit of one hook, in the kernel's terms. */
export type EditPlan =
  | { op: "zero"; region: HookRegion }
  | { op: "add"; region: HookRegion; vector: Tensor; scale: number }
  | {
    op: "patch";
    region: HookRegion;
    /**
     * A tensor `[S, X, Y, C]`; "self" the hook as it arrived (all its rows); "mean" its mean over
     * the region's rows `[r0, r1)` as they arrived (`[1, X, Y, C]`).
     */
    from: PatchSource;
    /** `[r1 − r0]`: the source row of each edited row. */
    rowmap: Int32Array;
  };

/**
 * `[B, X, Y, C]`: how `point`'s activation is read by edits, and which of X and Y are its
 * position and head axes (`undefined` where it has no head).
 *
 * @example
 * ```ts
 * import { editView } from "./edit_plan.ts";
 * editView({ name: "blocks.0.hook_resid_pre", shape: [2, 3, 8], gpu: true, gpuEdit: true }).view; // [2, 3, 1, 8]
 * ```
 */
export function editView(point: HookPoint): { view: number[]; pos: 1 | 2; head?: 1 | 2 } {
  const s = point.shape;
  if (s.length === 3) return { view: [s[0]!, s[1]!, 1, s[2]!], pos: 1 };
  if (/hook_(pattern|attn_scores)$/.test(point.name)) return { view: [...s], pos: 2, head: 1 };
  return { view: [...s], pos: 1, head: 2 };
}

/**
 * The edit `iv` makes of `point` (its activation `[batch, ...]`), checked: `rows`, `pos` and
 * `head` inside the hook, `head` only on hooks with heads, a patch source shaped as the hook (any
 * number of rows), an added vector as its last axis. Errors name the intervention's hook.
 *
 * @example
 * ```ts
 * import { planEdit } from "./edit_plan.ts";
 * const point = { name: "blocks.0.attn.hook_z", shape: [4, 3, 2, 5], gpu: true, gpuEdit: true };
 * planEdit({ kind: "zero", name: point.name, head: 1 }, point).region;
 * // { rows: [0, 4], x: [0, 3], y: [1, 2] }
 * ```
 */
export function planEdit(iv: Intervention, point: HookPoint): EditPlan {
  const { view, pos, head } = editView(point);
  const batch = view[0]!;
  const fail = (what: string) => {
    throw new RangeError(`intervention on ${iv.name}: ${what}`);
  };
  const range = (at: number | undefined, size: number, what: string): [number, number] => {
    if (at === undefined) return [0, size];
    if (!Number.isInteger(at) || at < 0 || at >= size) {
      fail(`${what} ${at} is outside [0, ${size})`);
    }
    return [at!, at! + 1];
  };
  const rows = iv.rows ?? [0, batch];
  if (
    !Number.isInteger(rows[0]) || !Number.isInteger(rows[1]) || rows[0] < 0 || rows[0] > rows[1]
  ) {
    fail(`rows [${rows}] are not a range`);
  }
  if (rows[1] > batch) fail(`rows [${rows}] go past the batch of ${batch}`);
  if (iv.head !== undefined && head === undefined) {
    fail(`head given, but the hook has no head axis`);
  }
  const axes: [number, number][] = [[0, view[1]!], [0, view[2]!]];
  axes[pos - 1] = range(iv.pos, view[pos]!, "pos");
  if (head !== undefined) axes[head - 1] = range(iv.head, view[head]!, "head");
  const region: HookRegion = { rows: [rows[0], rows[1]], x: axes[0]!, y: axes[1]! };
  const n = rows[1] - rows[0];
  switch (iv.kind) {
    case "zero":
      return { op: "zero", region };
    case "add": {
      const C = view[3]!;
      if (iv.vector.shape.join() !== `${C}`) fail(`vector [${iv.vector.shape}] is not [${C}]`);
      return { op: "add", region, vector: iv.vector, scale: iv.scale ?? 1 };
    }
    case "mean":
      return { op: "patch", region, from: "mean", rowmap: new Int32Array(n) };
    case "resample": {
      // Only the edited rows are shuffled, among themselves: a block of a shared batch never
      // takes a row of another block.
      const perm = permutation(n, { seed: iv.seed ?? 0 }).data;
      return {
        op: "patch",
        region,
        from: "self",
        rowmap: Int32Array.from(perm, (p) => rows[0] + p),
      };
    }
    case "patch": {
      const S = iv.source.shape[0] ?? 0;
      if (S < 1 || iv.source.shape.slice(1).join() !== point.shape.slice(1).join()) {
        fail(`source [${iv.source.shape}] is not [rows, ${point.shape.slice(1)}]`);
      }
      const rowmap = Int32Array.from({ length: n }, (_, r) => r % S);
      return { op: "patch", region, from: iv.source.reshape([S, ...view.slice(1)]), rowmap };
    }
  }
}

/**
 * `interventions` planned and grouped by hook name, in their order: `pointOf` finds (and may
 * refuse) each one's hook point.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { planEdits } from "./edit_plan.ts";
 * import { hookPoint, hookPoints } from "./hook_points.ts";
 * const points = hookPoints(DEFAULT_MODEL, 1, 3);
 * const ivs = [{ kind: "zero" as const, name: "blocks.0.attn.hook_z", head: 1 }];
 * planEdits(ivs, (n) => hookPoint(points, n)).get("blocks.0.attn.hook_z")?.length; // 1
 * ```
 */
export function planEdits(
  interventions: readonly Intervention[],
  pointOf: (name: string) => HookPoint,
): Map<string, EditPlan[]> {
  const plans = new Map<string, EditPlan[]>();
  for (const iv of interventions) {
    plans.set(iv.name, [...plans.get(iv.name) ?? [], planEdit(iv, pointOf(iv.name))]);
  }
  return plans;
}

/**
 * `value` (`point`'s activation as it arrived) after `plans` in order, in float64: the CPU runner's
 * edits. "self" and "mean" read the activation as it arrived, before any of these edits; "mean"
 * averages only the plan's own rows.
 *
 * @example
 * ```ts
 * import { applyEdits, planEdit } from "./edit_plan.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const point = { name: "blocks.0.hook_resid_pre", shape: [2, 1, 2], gpu: true, gpuEdit: true };
 * const x = tensor([1, 2, 3, 4], [2, 1, 2]);
 * applyEdits(x, point, [planEdit({ kind: "mean", name: point.name }, point)]).toArray();
 * // Float64Array [2, 3, 2, 3]
 * ```
 */
export function applyEdits(value: Tensor, point: HookPoint, plans: readonly EditPlan[]): Tensor {
  const { view } = editView(point);
  const arrived = value.reshape(view);
  let x = arrived;
  for (const plan of plans) {
    const { region } = plan;
    if (plan.op === "zero") x = hookZeroForward(x, { region });
    else if (plan.op === "add") x = hookAddForward(x, plan.vector, plan);
    else {
      const source = plan.from === "self"
        ? arrived
        : plan.from === "mean"
        ? mean(slice(arrived, `${region.rows[0]}:${region.rows[1]}`), 0, { keepdims: true })
        : plan.from;
      x = hookPatchForward(x, source, plan);
    }
  }
  return x.reshape(point.shape);
}
