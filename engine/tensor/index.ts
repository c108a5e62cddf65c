/**
 * Slicing and indexing, numpy style. A slice is a list with one entry per dimension: a number
 * picks one position and drops the dimension, `[start, stop, step]` (any part may be `null` or
 * left out) keeps a range, `null` keeps all, `"..."` stands for as many full dimensions as are
 * needed. The same can be written as a string: `"1:3, ..., ::-1, 0"`.
 *
 * @module
 */

import { normalizeAxis, normalizeIndex, sizeOf, stridesOf, Tensor } from "./tensor.ts";
import { materialize } from "./view.ts";
import { allocate } from "./dtype.ts";

/** A range along one dimension, as Python's `start:stop:step`. */
export type Range = readonly [start?: number | null, stop?: number | null, step?: number | null];

/** One dimension's entry of a slice. */
export type SliceEntry = number | Range | null | "...";

/**
 * Slices a tensor (a copy), as numpy's basic indexing.
 *
 * @example
 * ```ts
 * import { slice } from "./index.ts";
 * import { arange } from "./tensor.ts";
 * const t = arange(12).reshape([3, 4]);
 * slice(t, [1, [null, null, 2]]).toArray(); // Int32Array [4, 6]
 * slice(t, "::-1, 3").toArray(); // Int32Array [11, 7, 3]
 * ```
 */
export function slice(t: Tensor, spec: string | readonly SliceEntry[]): Tensor {
  const entries = typeof spec === "string" ? parseSlice(spec) : spec;
  const ellipses = entries.filter((e) => e === "...").length;
  if (ellipses > 1) throw new Error("slice: at most one '...'");
  const named = entries.length - ellipses;
  if (named > t.ndim) {
    throw new Error(`slice: ${named} entries for a tensor of ${t.ndim} dimensions`);
  }
  const full: Exclude<SliceEntry, "...">[] = [];
  for (const e of entries) {
    if (e === "...") { for (let i = 0; i < t.ndim - named; i++) full.push(null); }
    else full.push(e);
  }
  while (full.length < t.ndim) full.push(null);

  const strides = stridesOf(t.shape);
  let offset = 0;
  const shape: number[] = [];
  const outStrides: number[] = [];
  full.forEach((e, d) => {
    const n = t.shape[d]!;
    if (typeof e === "number") {
      offset += normalizeIndex(e, n, { dim: d, caller: "slice" }) * strides[d]!;
      return;
    }
    const [start, count, step] = resolveRange(e ?? [], n, d);
    offset += start * strides[d]!;
    shape.push(count);
    outStrides.push(step * strides[d]!);
  });
  return materialize(t, { offset, shape, strides: outStrides });
}

/**
 * Picks entries along `axis` by integer indices (numpy's `take`, PyTorch's `index_select`): the
 * indices' shape replaces that dimension. `take(W_E, tokens)` is an embedding lookup.
 *
 * @example
 * ```ts
 * import { take } from "./index.ts";
 * import { arange, tensor } from "./tensor.ts";
 * const W = arange(6).reshape([3, 2]);
 * take(W, tensor([2, 0, 2], [3], "i32")).toArray(); // Int32Array [4, 5, 0, 1, 4, 5]
 * ```
 */
export function take(t: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  const idx = Array.isArray(indices) ? indices : (indices as Tensor).data;
  const idxShape = Array.isArray(indices) ? [indices.length] : (indices as Tensor).shape;
  const a = normalizeAxis(axis, t.ndim);
  const n = t.shape[a]!;
  const outer = sizeOf(t.shape.slice(0, a));
  const inner = sizeOf(t.shape.slice(a + 1));
  const out = allocate(t.dtype, outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const src = (o * n + normalizeIndex(idx[k]!, n, { dim: a, caller: "take" })) * inner;
      out.set(t.data.subarray(src, src + inner), (o * idx.length + k) * inner);
    }
  }
  return new Tensor(out, [...t.shape.slice(0, a), ...idxShape, ...t.shape.slice(a + 1)]);
}

/** Python's slice semantics: the first position, the number of positions and the step. */
function resolveRange(r: Range, n: number, dim: number): [number, number, number] {
  const step = r[2] ?? 1;
  if (!Number.isInteger(step) || step === 0) {
    throw new Error(`slice: step ${step} on dim ${dim} must be a non-zero integer`);
  }
  for (const bound of [r[0], r[1]]) {
    if (bound != null && !Number.isInteger(bound)) {
      throw new Error(`slice: bound ${bound} on dim ${dim} must be an integer`);
    }
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number, lo: number, hi: number) => clamp(v < 0 ? v + n : v, lo, hi);
  const start = r[0] == null
    ? (step > 0 ? 0 : n - 1)
    : norm(r[0], step > 0 ? 0 : -1, step > 0 ? n : n - 1);
  const stop = r[1] == null
    ? (step > 0 ? n : -1)
    : norm(r[1], step > 0 ? 0 : -1, step > 0 ? n : n - 1);
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return [start, count, step];
}

function parseSlice(spec: string): SliceEntry[] {
  return spec.split(",").map((part) => {
    const s = part.trim();
    if (s === "...") return "...";
    if (s === ":" || s === "") return null;
    const fields = s.split(":").map((f) => f.trim());
    const num = (f: string | undefined): number | null => {
      if (f === undefined || f === "") return null;
      const v = Number(f);
      if (!Number.isInteger(v)) throw new Error(`slice: '${f}' in '${spec}' is not an integer`);
      return v;
    };
    if (fields.length === 1) return num(fields[0]) as number;
    if (fields.length > 3) throw new Error(`slice: '${s}' in '${spec}' has too many ':'`);
    return [num(fields[0]), num(fields[1]), num(fields[2])] as const;
  });
}
