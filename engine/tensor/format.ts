/**
 * Printing tensors as PyTorch does, so a learner at the REPL sees values, not a typed array:
 * nested brackets, one aligned width per tensor, and the middle elided past 1000 elements
 * (numpy's threshold, with 3 items kept at each edge). `console.log(t)` in Deno prints this.
 *
 * @module
 */

import { stridesOf, type Tensor } from "./tensor.ts";

/** Options of `formatTensor`. */
export interface FormatOptions {
  /** Digits after the point for floats (default 4, as PyTorch). */
  precision?: number;
  /** Above this many elements, print only `edgeItems` at each end of each dim (default 1000). */
  threshold?: number;
  /** How many items to keep at each end of a dim when eliding (default 3). */
  edgeItems?: number;
}

/**
 * The tensor's values as text: `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], f32)`, one row per
 * line for 2-D and up.
 *
 * @example
 * ```ts
 * import { formatTensor } from "./format.ts";
 * import { tensor } from "./tensor.ts";
 * formatTensor(tensor([1, -2.5, 3, 4], [2, 2]));
 * // tensor([[ 1.0000, -2.5000],
 * //         [ 3.0000,  4.0000]], f64)
 * ```
 */
export function formatTensor(t: Tensor, options: FormatOptions = {}): string {
  const { precision = 4, threshold = 1000, edgeItems = 3 } = options;
  // Per dim, the indices printed; -1 stands for the "..." of an elided middle.
  const kept = t.shape.map((n) =>
    t.size > threshold && n > 2 * edgeItems
      ? [...range(0, edgeItems), -1, ...range(n - edgeItems, n)]
      : range(0, n)
  );
  const strides = stridesOf(t.shape);
  const visible: number[] = [];
  const collect = (dim: number, offset: number): void => {
    if (dim === t.ndim) visible.push(t.data[offset]!);
    else for (const i of kept[dim]!) if (i >= 0) collect(dim + 1, offset + i * strides[dim]!);
  };
  collect(0, 0);

  const scientific = t.dtype !== "i32" && needsScientific(visible);
  const text = (v: number) =>
    t.dtype === "i32"
      ? String(v)
      : !Number.isFinite(v)
      ? (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf")
      : scientific
      ? v.toExponential(precision)
      : v.toFixed(precision);
  let width = 0;
  for (const v of visible) width = Math.max(width, text(v).length);
  const prefix = "tensor(";
  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === t.ndim) return text(t.data[offset]!).padStart(width);
    const items = kept[dim]!.map((i) =>
      i < 0 ? "..." : render(dim + 1, offset + i * strides[dim]!, indent + " ")
    );
    const sep = dim === t.ndim - 1 ? ", " : "," + "\n".repeat(t.ndim - dim - 1) + indent + " ";
    return `[${items.join(sep)}]`;
  };
  return `${prefix}${render(0, 0, " ".repeat(prefix.length))}, ${t.dtype})`;
}

function range(start: number, stop: number): number[] {
  return Array.from({ length: stop - start }, (_, i) => start + i);
}

/** PyTorch's rule: scientific when the finite magnitudes span more than 1e3 or leave [1e-4, 1e8). */
function needsScientific(values: number[]): boolean {
  let lo = Infinity;
  let hi = 0;
  for (const v of values) {
    const m = Math.abs(v);
    if (m === 0 || m === Infinity || Number.isNaN(m)) continue;
    lo = Math.min(lo, m);
    hi = Math.max(hi, m);
  }
  return hi > 0 && (hi >= 1e8 || lo < 1e-4 || hi / lo > 1e3);
}
