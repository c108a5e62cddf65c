/**
 * einops' `rearrange`, `repeat` and `reduce` for mechlab tensors: one readable pattern instead of
 * a chain of reshapes, transposes, tiles and reductions, as interpretability code is full of
 * ("batch pos (head d) -> batch head pos d").
 *
 * Every call does the same few steps. The pattern is parsed (`einops_pattern.ts`) and checked for
 * the operation; each elementary axis gets its size from the shape and the sizes given; the input
 * is reshaped to its elementary axes (no copy); `reduce` reduces the axes the right side drops;
 * then one strided copy (`materialize`) reads the kept axes in the right side's order, with stride
 * 0 along new axes, so a repeat broadcasts without a separate tiling pass; a last reshape composes
 * the parenthesised groups.
 *
 * @module
 */

import {
  displayAxis,
  ELLIPSIS,
  type Expression,
  formatAxes,
  isAxisName,
  parseExpression,
  PatternError,
} from "./einops_pattern.ts";
import { max, mean, min, prod, sum } from "./reduce.ts";
import { sizeOf, stridesOf, Tensor } from "./tensor.ts";
import { materialize } from "./view.ts";

/**
 * How `reduce` combines the values of the dropped axes: a built-in name, or einops' callable form,
 * which gets the tensor and the axes to reduce and must return the tensor without those axes.
 */
export type Reduction =
  | "sum"
  | "mean"
  | "max"
  | "min"
  | "prod"
  | ((t: Tensor, axes: number[]) => Tensor);

/**
 * Reorders, splits, merges, adds or removes unit dimensions, as einops' `rearrange`. Every axis
 * must appear on both sides; `(h w)` on the left splits a dimension (all sizes but one given in
 * `axes` or inferable), on the right merges, in row-major order; `...` stands for any dimensions.
 *
 * @example
 * ```ts
 * import { rearrange } from "./einops.ts";
 * import { arange } from "./tensor.ts";
 * const x = arange(6).reshape([2, 3]);
 * rearrange(x, "a b -> b a").toArray(); // Int32Array [0, 3, 1, 4, 2, 5]
 * rearrange(x, "a b -> (a b)").shape; // [6]
 * rearrange(arange(12), "(h w) -> h w", { h: 3 }).shape; // [3, 4]
 * rearrange(arange(24).reshape([2, 3, 4]), "b ... -> b (...)").shape; // [2, 12]
 * ```
 */
export function rearrange(t: Tensor, pattern: string, axes: Record<string, number> = {}): Tensor {
  return einops("rearrange", t, pattern, axes);
}

/**
 * Repeats elements along new axes, as einops' `repeat`: axes only on the right are new, sized by
 * `axes` or written as numbers. Where a new axis sits inside a group decides the order:
 * `(h 2)` repeats each row twice in place, `(2 h)` tiles the whole.
 *
 * @example
 * ```ts
 * import { repeat } from "./einops.ts";
 * import { tensor } from "./tensor.ts";
 * const x = tensor([1, 2]);
 * repeat(x, "w -> h w", { h: 2 }).toArray(); // Float64Array [1, 2, 1, 2]
 * repeat(x, "w -> (w 2)").toArray(); // Float64Array [1, 1, 2, 2]
 * repeat(x, "w -> (2 w)").toArray(); // Float64Array [1, 2, 1, 2]
 * ```
 */
export function repeat(t: Tensor, pattern: string, axes: Record<string, number> = {}): Tensor {
  return einops("repeat", t, pattern, axes);
}

/**
 * Reduces the axes that the right side leaves out, as einops' `reduce`; may rearrange the rest
 * and add unit axes (`()` or `1`) on the right.
 *
 * @example
 * ```ts
 * import { reduce } from "./einops.ts";
 * import { tensor } from "./tensor.ts";
 * const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * reduce(x, "a b -> b", "sum").toArray(); // Float64Array [5, 7, 9]
 * reduce(x, "a (b 3) -> a 1", "max").shape; // [2, 1]
 * reduce(tensor([1, 5, 2, 3]), "(w 2) -> w", "max").toArray(); // Float64Array [5, 3]
 * ```
 */
export function reduce(
  t: Tensor,
  pattern: string,
  reduction: Reduction,
  axes: Record<string, number> = {},
): Tensor {
  return einops({ reduce: reduction }, t, pattern, axes);
}

type Operation = "rearrange" | "repeat" | { reduce: Reduction };

const REDUCTIONS = { sum, mean, max, min, prod };

/** The common path of the three operations; pattern errors are prefixed with the failing call. */
function einops(op: Operation, t: Tensor, pattern: string, given: Record<string, number>): Tensor {
  try {
    return transform(op, t, pattern, given);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    const args = [JSON.stringify(pattern)];
    if (typeof op === "object") {
      args.push(typeof op.reduce === "function" ? "a function" : JSON.stringify(op.reduce));
    }
    args.push(`shape [${t.shape.join(", ")}]`);
    const sizes = Object.entries(given).map(([k, v]) => `${k}: ${v}`);
    if (sizes.length > 0) args.push(`{ ${sizes.join(", ")} }`);
    const name = typeof op === "object" ? "reduce" : op;
    throw new Error(`${name}(${args.join(", ")}): ${e.message}`, { cause: e });
  }
}

function transform(
  op: Operation,
  t: Tensor,
  pattern: string,
  given: Record<string, number>,
): Tensor {
  const { left, right, anonymous } = parsePattern(op, pattern, t.ndim, given);
  const sizes = axisSizes(left, t.shape, given, anonymous);
  const leftAxes = left.flat();
  const rightAxes = right.flat();
  const sizesOf = (axes: readonly string[]) => axes.map((a) => sizes.get(a)!);

  let x = t.reshape(sizesOf(leftAxes));
  const kept = leftAxes.filter((a) => rightAxes.includes(a));
  // checkAxes has made sure only `reduce` can drop axes.
  if (typeof op === "object" && kept.length < leftAxes.length) {
    const dropped = leftAxes.flatMap((a, i) => (rightAxes.includes(a) ? [] : [i]));
    x = reduceWith(x, dropped, op.reduce, sizesOf(kept));
  }
  // Already in the right order with nothing new: the data is the answer, only regrouped.
  const inOrder = rightAxes.length === kept.length && rightAxes.every((a, i) => a === kept[i]);
  if (!inOrder) {
    const strides = stridesOf(x.shape);
    x = materialize(x, {
      offset: 0,
      shape: sizesOf(rightAxes),
      strides: rightAxes.map((a) => (kept.includes(a) ? strides[kept.indexOf(a)]! : 0)),
    });
  }
  return x.reshape(right.map((group) => sizeOf(sizesOf(group))));
}

/** Both sides parsed, checked for `op`, and with `...` expanded for a tensor of `ndim` dims. */
function parsePattern(op: Operation, pattern: string, ndim: number, given: Record<string, number>) {
  const sides = pattern.split("->");
  if (sides.length !== 2) throw new PatternError(`Pattern must contain "->" exactly once`);
  const left = parseExpression(sides[0]!, "left");
  const right = parseExpression(sides[1]!, "right");
  if (left.ellipsis === "none" && right.ellipsis !== "none") {
    throw new PatternError("Ellipsis found in right side, but not left side of a pattern");
  }
  if (left.ellipsis === "grouped") {
    throw new PatternError("Ellipsis inside parenthesis in the left side is not allowed");
  }
  checkAxes(op, left, right, given);

  const fixed = left.groups.length - (left.ellipsis === "none" ? 0 : 1);
  if (left.ellipsis === "none" ? ndim !== fixed : ndim < fixed) {
    const expected = `${left.ellipsis === "none" ? "" : ">="}${fixed}`;
    throw new PatternError(`Wrong shape: expected ${expected} dims. Received ${ndim}-dim tensor.`);
  }
  const covered = Array.from({ length: ndim - fixed }, (_, i) => `${ELLIPSIS}${i}`);
  const expand = (e: Expression) =>
    e.groups.flatMap((g) =>
      g === ELLIPSIS ? covered.map((a) => [a]) : [g.flatMap((a) => (a === ELLIPSIS ? covered : a))]
    );
  const anonymous = new Map([...left.anonymous, ...right.anonymous]);
  return { left: expand(left), right: expand(right), anonymous };
}

/** Which axes may appear on one side only, and which sizes may be given, for each operation. */
function checkAxes(
  op: Operation,
  left: Expression,
  right: Expression,
  given: Record<string, number>,
): void {
  const onlyLeft = [...left.identifiers].filter((a) => !right.identifiers.has(a));
  const onlyRight = [...right.identifiers].filter((a) => !left.identifiers.has(a));
  if (op === "rearrange") {
    if (left.anonymous.size + right.anonymous.size > 0) {
      throw new PatternError(
        "Non-unitary anonymous axes are not supported in rearrange (exception is length 1)",
      );
    }
    if (onlyLeft.length + onlyRight.length > 0) {
      throw new PatternError(
        "Identifiers only on one side of expression (should be on both): " +
          formatAxes([...onlyLeft, ...onlyRight]),
      );
    }
  } else if (op === "repeat") {
    if (onlyLeft.length > 0) {
      throw new PatternError(
        `Unexpected identifiers on the left side of repeat: ${formatAxes(onlyLeft)}`,
      );
    }
    const unsized = onlyRight.filter((a) => !right.anonymous.has(a) && !Object.hasOwn(given, a));
    if (unsized.length > 0) {
      throw new PatternError(`Specify sizes for new axes in repeat: ${formatAxes(unsized)}`);
    }
  } else {
    const reduction = op.reduce;
    if (typeof reduction !== "function" && !Object.hasOwn(REDUCTIONS, reduction)) {
      throw new PatternError(
        `Unknown reduction ${reduction}. Expect one of ${Object.keys(REDUCTIONS).join(", ")}`,
      );
    }
    if (onlyRight.length > 0) {
      const name = typeof reduction === "function" ? "function" : reduction;
      throw new PatternError(
        `Unexpected identifiers on the right side of reduce ${name}: ${formatAxes(onlyRight)}`,
      );
    }
  }
  for (const name of Object.keys(given)) {
    if (!isAxisName(name) || !(left.identifiers.has(name) || right.identifiers.has(name))) {
      throw new PatternError(`Axis ${name} is not used in transform`);
    }
  }
}

/**
 * The size of every elementary axis: given, anonymous, or inferred from the left side's
 * dimensions, each of which may leave one axis unknown.
 */
function axisSizes(
  left: readonly (readonly string[])[],
  shape: readonly number[],
  given: Record<string, number>,
  anonymous: ReadonlyMap<string, number>,
): Map<string, number> {
  const sizes = new Map(anonymous);
  for (const [name, size] of Object.entries(given)) {
    if (!Number.isInteger(size) || size < 0) {
      throw new PatternError(`Size of axis ${name} must be a non-negative integer, not ${size}`);
    }
    sizes.set(name, size);
  }
  left.forEach((group, dim) => {
    const unknown = group.filter((a) => !sizes.has(a));
    if (unknown.length > 1) {
      throw new PatternError(`Could not infer sizes for ${formatAxes(unknown)}`);
    }
    const known = sizeOf(group.filter((a) => sizes.has(a)).map((a) => sizes.get(a)!));
    const length = shape[dim]!;
    const where = `dim ${dim} = (${group.map(displayAxis).join(" ")})`;
    if (unknown[0] === undefined) {
      if (length !== known) {
        throw new PatternError(`Shape mismatch, ${length} != ${known} for ${where}`);
      }
    } else if (known === 0 || length % known !== 0) {
      throw new PatternError(
        `Shape mismatch, can't divide axis of length ${length} in chunks of ${known} for ${where}`,
      );
    } else {
      sizes.set(unknown[0], length / known);
    }
  });
  return sizes;
}

/** Applies a built-in or callable reduction, holding a callable to the shape einops promises. */
function reduceWith(x: Tensor, axes: number[], reduction: Reduction, expected: number[]): Tensor {
  if (typeof reduction !== "function") return REDUCTIONS[reduction](x, axes);
  const out: unknown = reduction(x, [...axes]);
  const fits = out instanceof Tensor && out.ndim === expected.length &&
    out.shape.every((d, i) => d === expected[i]);
  if (!fits) {
    const got = out instanceof Tensor ? `shape [${out.shape.join(", ")}]` : "a non-tensor";
    throw new PatternError(
      `Reduction function returned ${got}, expected shape [${expected.join(", ")}] ` +
        `(the input without axes [${axes.join(", ")}])`,
    );
  }
  return out;
}
