/**
 * The dispatches a hooked GPU run splices into the model's forward pass at one hook: what its edits
 * read from the activation as it arrived (a copy for `resample`, column sums of each averaged row
 * block for `mean`), then the edits in order (`kernels/hook_edit.wgsl`), then, where a later hook
 * shares its buffer and edits it, a copy for the cache; and after `hook_z`, where asked, each
 * head's `hook_result`, which the model never forms. Everything they allocate is theirs, freed by
 * `releaseDispatches` and `release`.
 *
 * @module
 */

import type { Dispatch, Gpu, GpuTensor } from "../gpu/mod.ts";
import {
  hookAddForward,
  hookPatchForward,
  hookZeroForward,
  matmul,
  sumRows,
} from "../../kernels/mod.ts";
import type { Tensor } from "../tensor/mod.ts";
import type { EditPlan } from "./edit_plan.ts";

/** What the splices of one run hold besides their dispatches' scratch: uploads, copies, sums. */
export class SpliceBuffers {
  readonly #gpu: Gpu;
  readonly #uploads = new Map<Tensor["data"], GpuTensor>();
  readonly #owned: GpuTensor[] = [];

  constructor(gpu: Gpu) {
    this.#gpu = gpu;
  }

  /**
   * `t` on the GPU, uploaded once per array however many edits read it: a sweep patches every
   * position or head from one cache, each through its own reshaped view of the same data.
   */
  upload(t: Tensor): GpuTensor {
    let g = this.#uploads.get(t.data);
    if (g === undefined) {
      g = this.#gpu.upload(t);
      this.#uploads.set(t.data, g);
      this.#owned.push(g);
    }
    return g.shape.join() === t.shape.join() ? g : g.view(0, t.shape);
  }

  /** A fresh tensor freed with the rest. */
  empty(shape: readonly number[]): GpuTensor {
    const t = this.#gpu.empty(shape);
    this.#owned.push(t);
    return t;
  }

  /** Frees everything above. */
  release(): void {
    for (const t of this.#owned) t.release();
  }
}

/**
 * The dispatches of `plans` on `target` (`[P, X, Y, C]`, the first `batch` rows real): statistics
 * of the activation as it arrived first, then each edit.
 *
 * @example
 * ```ts ignore
 * const held = new SpliceBuffers(gpu);
 * gpu.run(await editDispatches(gpu, held, { target, batch: 8, plans }));
 * ```
 */
export async function editDispatches(
  gpu: Gpu,
  held: SpliceBuffers,
  at: { target: GpuTensor; batch: number; plans: readonly EditPlan[] },
): Promise<Dispatch[]> {
  const { target, batch, plans } = at;
  const [, X, Y, C] = target.shape as [number, number, number, number];
  const out: Dispatch[] = [];
  const patches = plans.filter((p) => p.op === "patch");
  let arrived: GpuTensor | undefined; // [batch, X, Y, C]: the rows as they arrived, to resample
  if (patches.some((p) => p.from === "self")) {
    arrived = held.empty([batch, X, Y, C]);
    out.push(...await copyRows(gpu, target, arrived));
  }
  // "rows r0:r1" → [1, X, Y, C]: Σ over those rows as they arrived, one per row block averaged
  const sums = new Map<string, GpuTensor>();
  for (const { region: { rows } } of patches.filter((p) => p.from === "mean")) {
    const key = `${rows[0]}:${rows[1]}`;
    if (sums.has(key)) continue;
    const sum = held.empty([1, X, Y, C]);
    sums.set(key, sum);
    if (rows[1] > rows[0]) out.push(...await rowSums(gpu, held, { target, rows }, sum));
  }
  for (const plan of plans) {
    const { region } = plan;
    if (plan.op === "zero") out.push(...await hookZeroForward(gpu, target, { region }));
    else if (plan.op === "add") {
      out.push(...await hookAddForward(gpu, target, held.upload(plan.vector), plan));
    } else {
      const [r0, r1] = region.rows;
      const source = plan.from === "self"
        ? arrived!
        : plan.from === "mean"
        ? sums.get(`${r0}:${r1}`)!
        : held.upload(plan.from);
      const scale = plan.from === "mean" ? 1 / (r1 - r0) : 1;
      out.push(...await hookPatchForward(gpu, target, source, { ...plan, scale }));
    }
  }
  return out;
}

/** A byte offset every device binds: `minStorageBufferOffsetAlignment` is at most this. */
const BIND_ALIGN = 256;

/**
 * `sum [1, X, Y, C] = Σ_{r0 ≤ r < r1} target[r]` (`target` `[P, X, Y, C]`): summed in place through
 * a view where the block starts at a bindable offset, else from a copy of the block, as a row of
 * `hook_z` (`T·H·E` floats) rarely starts on one.
 */
async function rowSums(
  gpu: Gpu,
  held: SpliceBuffers,
  of: { target: GpuTensor; rows: readonly [number, number] },
  sum: GpuTensor,
): Promise<Dispatch[]> {
  const { target, rows: [r0, r1] } = of;
  const [, X, Y, C] = target.shape as [number, number, number, number];
  const [n, line] = [r1 - r0, X * Y * C];
  if ((target.offset + r0 * line * 4) % BIND_ALIGN === 0) {
    return await sumRows(gpu, target.view(r0 * line, [n, line]), sum);
  }
  const block = held.empty([n, X, Y, C]);
  return [
    ...await copyRows(gpu, target, block, { first: r0 }),
    ...await sumRows(gpu, block.view(0, [n, line]), sum),
  ];
}

/**
 * `copy [n, X, Y, C] = rows first..first+n of from [P, X, Y, C]` (`first` 0 by default): a patch of
 * every element, row r from row first + r.
 *
 * @example
 * ```ts ignore
 * gpu.run(await copyRows(gpu, hookBuffer, snapshot));
 * ```
 */
export async function copyRows(
  gpu: Gpu,
  from: GpuTensor,
  copy: GpuTensor,
  options: { first?: number } = {},
): Promise<Dispatch[]> {
  const [n, X, Y] = copy.shape as [number, number, number];
  const first = options.first ?? 0;
  const rowmap = Int32Array.from({ length: n }, (_, r) => first + r);
  return await hookPatchForward(gpu, copy, from, {
    region: { rows: [0, n], x: [0, X], y: [0, Y] },
    rowmap,
  });
}

/**
 * `result[:, :, h, :] = z[:, :, h, :] · W_O[h]` for the `n` rows of `result` `[n, T, H, D]`, from
 * the first `n` rows of `z` `[P, T, H, E]` and `W_O` `[H, E, D]`: TransformerLens' `hook_result`
 * (`use_attn_result`), one batched product over heads, each head's operands strided in place.
 *
 * @example
 * ```ts ignore
 * const result = held.empty([batch, T, H, D]);
 * gpu.run(await headResults(gpu, { z: model.hooks.get("blocks.0.attn.hook_z")!, W_O }, result));
 * ```
 */
export async function headResults(
  gpu: Gpu,
  from: { z: GpuTensor; W_O: GpuTensor },
  result: GpuTensor,
): Promise<Dispatch[]> {
  const [n, T, H, D] = result.shape as [number, number, number, number];
  const E = from.z.shape[3]!;
  return await matmul(
    gpu,
    { tensor: from.z, ld: H * E, batchStride: E }, // head h: [n·T, E] of [n·T, H, E]
    { tensor: from.W_O, batchStride: E * D },
    { tensor: result, ld: H * D, batchStride: D }, // head h: [n·T, D] of [n·T, H, D]
    { m: n * T, n: D, k: E, batch: H },
  );
}
