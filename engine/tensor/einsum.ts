/**
 * Einstein summation, as numpy's `einsum` and einops' named-axes `einsum`: one equation names the
 * axes of every operand and of the result, and every product-and-sum of tensors in the lab
 * (attention scores, OV circuits, bilinear forms, traces) is one line instead of a tower of
 * permutes and matmuls.
 *
 * The equation is parsed into one label per dimension (an ellipsis expands to numbered labels, one
 * per broadcast dim), repeated labels inside an operand become a diagonal view, labels nobody else
 * needs are summed away at once, and the operands are then contracted two at a time through the
 * core `matmul`, so no step ever builds the outer product of all operands.
 *
 * @module
 */

import { promote } from "./dtype.ts";
import { isAxisName } from "./einops_pattern.ts";
import { matmul } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { sizeOf, stridesOf, type Tensor } from "./tensor.ts";
import { materialize, permute } from "./view.ts";

/** The ellipsis token, and the prefix of the labels it expands to (no axis name starts with it). */
const ELLIPSIS = "...";

/** A tensor with one label per dimension. */
interface Labelled {
  t: Tensor;
  labels: string[];
}

/** An equation split into tokens: one list per input term and, when given, the output's. */
interface Equation {
  /** The input terms as written, for error messages. */
  terms: string[];
  inputs: string[][];
  output: string[] | undefined;
}

/**
 * Sums the product of the operands over every index that is not in the output.
 *
 * The equation is numpy's (`"ij,jk->ik"`: one letter per axis, `...` for broadcast batch dims,
 * the output optional) or einops' (`"batch i d, batch j d -> batch i j"`: whitespace-separated
 * axis names, the output required). An equation is in the named form as soon as one of its terms
 * holds whitespace between axes; then every term is split on whitespace, so a one-axis term like
 * `"batch"` still names one axis. Without `->` the output is numpy's: the `...` dims, then the
 * letters that appear exactly once, sorted. A letter repeated inside one operand reads its
 * diagonal. Sizes of a label must agree exactly; dims under `...` broadcast as numpy's (size 1
 * stretches). The result has the promoted dtype of all operands.
 *
 * @example
 * ```ts
 * import { einsum } from "./einsum.ts";
 * import { tensor } from "./tensor.ts";
 * const a = tensor([1, 2, 3, 4], [2, 2]);
 * einsum("ij,jk->ik", a, a).toArray(); // Float64Array [7, 10, 15, 22]
 * einsum("ii", a).toArray(); // Float64Array [5] (the trace)
 * einsum("row col -> col row", a).toArray(); // Float64Array [1, 3, 2, 4]
 * einsum("...i,...i", a, a).toArray(); // Float64Array [5, 25] (row-wise dot products)
 * ```
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const parsed = parseEquation(equation);
  if (parsed.inputs.length !== operands.length) {
    const terms = parsed.inputs.length;
    throw new Error(
      `einsum: "${equation}" has ${terms} input terms but ${operands.length} operands were given`,
    );
  }
  const { labels, sizes, ellipsisDims } = bindLabels(parsed, operands);
  const output = outputLabels(parsed, labels, ellipsisDims);
  const dtype = operands.map((t) => t.dtype).reduce(promote);

  let ops = operands.map((t, i) => diagonal(t, labels[i]!, sizes));
  ops = ops.map((op, i) => sumUnshared(op, neededBeyond(ops, output, i)));
  while (ops.length > 1) {
    const [i, j] = cheapestPair(ops, output, sizes);
    const merged = contractPair(ops[i]!, ops[j]!, neededBeyond(ops, output, i, j), sizes);
    ops = [...ops.filter((_, k) => k !== i && k !== j), merged];
  }
  const result = arrange(ops[0]!, output);
  return result.dtype === dtype ? result : result.astype(dtype);
}

/** Splits the equation into terms and each term into axis tokens, checking the characters. */
function parseEquation(equation: string): Equation {
  const sides = equation.split("->");
  if (sides.length > 2) throw new Error(`einsum: "${equation}" has more than one "->"`);
  const inputTerms = sides[0]!.split(",").map((s) => s.trim());
  const outputTerm = sides[1]?.trim();
  const terms = outputTerm === undefined ? inputTerms : [...inputTerms, outputTerm];
  const named = terms.some((s) => /\s/.test(s));
  if (named && outputTerm === undefined) {
    throw new Error(`einsum: "${equation}" names its axes, so it needs an explicit "->" output`);
  }
  const tokens = terms.map((term) => (named ? namedTokens(term) : letterTokens(term)));
  for (const [k, toks] of tokens.entries()) {
    if (toks.filter((t) => t === ELLIPSIS).length > 1) {
      throw new Error(`einsum: term "${terms[k]}" has more than one "..."`);
    }
  }
  return outputTerm === undefined
    ? { terms: inputTerms, inputs: tokens, output: undefined }
    : { terms: inputTerms, inputs: tokens.slice(0, -1), output: tokens[tokens.length - 1]! };
}

/** numpy's form: every letter is an axis, `...` is one token. */
function letterTokens(term: string): string[] {
  const out: string[] = [];
  for (let p = 0; p < term.length;) {
    if (term.startsWith(ELLIPSIS, p)) {
      out.push(ELLIPSIS);
      p += ELLIPSIS.length;
    } else if (/^[A-Za-z]$/.test(term[p]!)) {
      out.push(term[p++]!);
    } else {
      throw new Error(
        `einsum: invalid character '${term[p]}' in term "${term}" (axes are letters or "...")`,
      );
    }
  }
  return out;
}

/** einops' form: whitespace-separated axis names (einops' own rule) and `...`. */
function namedTokens(term: string): string[] {
  const out = term === "" ? [] : term.split(/\s+/);
  for (const name of out) {
    if (name !== ELLIPSIS && !isAxisName(name)) {
      throw new Error(
        `einsum: invalid axis name '${name}' in term "${term}" (names are identifiers or "...")`,
      );
    }
  }
  return out;
}

/**
 * Gives every operand dim a label (the ellipsis dims, right-aligned as numpy broadcasts them,
 * become `...0`, `...1`, ...), checks the counts against each operand's ndim and finds the size of
 * every label.
 */
function bindLabels(
  { terms, inputs }: Equation,
  operands: readonly Tensor[],
): { labels: string[][]; sizes: Map<string, number>; ellipsisDims: number } {
  const spans = inputs.map((toks, i) => {
    const t = operands[i]!;
    const named = toks.filter((x) => x !== ELLIPSIS).length;
    const hasEllipsis = toks.includes(ELLIPSIS);
    if (hasEllipsis ? t.ndim < named : t.ndim !== named) {
      const count = `${hasEllipsis ? "at least " : ""}${named} indices`;
      throw new Error(
        `einsum: term "${
          terms[i]
        }" of operand ${i} has ${count} but the operand has ${t.ndim} dims`,
      );
    }
    return hasEllipsis ? t.ndim - named : 0;
  });
  const ellipsisDims = Math.max(0, ...spans);
  const labels = inputs.map((toks, i) =>
    toks.flatMap((x) =>
      x === ELLIPSIS
        ? Array.from({ length: spans[i]! }, (_, d) => `${ELLIPSIS}${ellipsisDims - spans[i]! + d}`)
        : [x]
    )
  );
  const sizes = new Map<string, number>();
  const seenIn = new Map<string, number>();
  labels.forEach((ls, i) =>
    ls.forEach((label, d) => {
      const size = operands[i]!.shape[d]!;
      const known = sizes.get(label);
      const broadcasts = label.startsWith(ELLIPSIS) && (known === 1 || size === 1);
      if (known !== undefined && known !== size && !broadcasts) {
        const what = label.startsWith(ELLIPSIS)
          ? `"..." dim ${label.slice(ELLIPSIS.length)}`
          : `index '${label}'`;
        const first = `size ${known} in operand ${seenIn.get(label)}`;
        throw new Error(`einsum: ${what} has ${first} but size ${size} in operand ${i}`);
      }
      if (known === undefined || known === 1) {
        sizes.set(label, size);
        seenIn.set(label, i);
      }
    })
  );
  return { labels, sizes, ellipsisDims };
}

/** The output's labels: as written (checked), or numpy's implicit ones. */
function outputLabels(
  parsed: Equation,
  labels: readonly string[][],
  ellipsisDims: number,
): string[] {
  const ellipsis = Array.from({ length: ellipsisDims }, (_, d) => `${ELLIPSIS}${d}`);
  const all = labels.flat();
  if (parsed.output === undefined) {
    const once = all.filter((l) =>
      !l.startsWith(ELLIPSIS) && all.indexOf(l) === all.lastIndexOf(l)
    );
    return [...ellipsis, ...once.sort()];
  }
  const out = parsed.output;
  const inputHasEllipsis = parsed.inputs.some((toks) => toks.includes(ELLIPSIS));
  if (out.includes(ELLIPSIS) && !inputHasEllipsis) {
    throw new Error(`einsum: the output has "..." but no input does`);
  }
  if (!out.includes(ELLIPSIS) && ellipsisDims > 0) {
    throw new Error(
      `einsum: the inputs' "..." covers ${ellipsisDims} dims but the output has no "..."`,
    );
  }
  for (const [k, label] of out.entries()) {
    if (label === ELLIPSIS) continue;
    if (!all.includes(label)) {
      throw new Error(`einsum: output index '${label}' appears in no input`);
    }
    if (out.indexOf(label) !== k) {
      throw new Error(`einsum: output index '${label}' appears more than once`);
    }
  }
  return out.flatMap((label) => (label === ELLIPSIS ? ellipsis : [label]));
}

/**
 * One dim per distinct label: a label repeated in the operand reads the diagonal (the strides of
 * its dims add up), and a size-1 dim that broadcasts against a larger one is dropped, since a
 * value constant along a label is the same as the label being absent.
 */
function diagonal(
  t: Tensor,
  labels: readonly string[],
  sizes: ReadonlyMap<string, number>,
): Labelled {
  const strides = stridesOf(t.shape);
  const kept: string[] = [];
  const keptStrides: number[] = [];
  labels.forEach((label, d) => {
    if (t.shape[d] !== sizes.get(label)) return;
    const k = kept.indexOf(label);
    if (k >= 0) keptStrides[k]! += strides[d]!;
    else {
      kept.push(label);
      keptStrides.push(strides[d]!);
    }
  });
  if (kept.length === t.ndim) return { t, labels: kept };
  const shape = kept.map((label) => sizes.get(label)!);
  return { t: materialize(t, { offset: 0, shape, strides: keptStrides }), labels: kept };
}

/** Sums away, before any product, the labels that neither the output nor another operand has. */
function sumUnshared(op: Labelled, elsewhere: ReadonlySet<string>): Labelled {
  const axes = op.labels.flatMap((l, d) => (elsewhere.has(l) ? [] : [d]));
  if (axes.length === 0) return op;
  return { t: sum(op.t, axes), labels: op.labels.filter((_, d) => !axes.includes(d)) };
}

/**
 * The pair to contract next: the one whose result is smallest (the first such pair on ties).
 * Greedy smallest-intermediate rather than left to right, because the written order can pair
 * operands that share no label: `"ij,kl,jk->il"` left to right builds the 4-D outer product
 * `ijkl`, while greedy goes through `ik` and never holds more than one matrix.
 */
function cheapestPair(
  ops: readonly Labelled[],
  output: readonly string[],
  sizes: ReadonlyMap<string, number>,
): [number, number] {
  let best: [number, number] = [0, 1];
  let bestSize = Infinity;
  for (let i = 0; i < ops.length; i++) {
    for (let j = i + 1; j < ops.length; j++) {
      const needed = neededBeyond(ops, output, i, j);
      const kept = new Set([...ops[i]!.labels, ...ops[j]!.labels].filter((l) => needed.has(l)));
      const size = sizeOf([...kept].map((l) => sizes.get(l)!));
      if (size < bestSize) [best, bestSize] = [[i, j], size];
    }
  }
  return best;
}

/**
 * Contracts two operands with one batched matmul. Labels in both are batch dims when still
 * needed and are summed otherwise; the rest are the rows (left only) and columns (right only).
 * A label held by one side only is always still needed: `sumUnshared` removed the others, and a
 * contraction keeps every label that some other operand holds.
 */
function contractPair(
  a: Labelled,
  b: Labelled,
  needed: ReadonlySet<string>,
  sizes: ReadonlyMap<string, number>,
): Labelled {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => needed.has(l));
  const contracted = shared.filter((l) => !needed.has(l));
  const left = a.labels.filter((l) => !b.labels.includes(l));
  const right = b.labels.filter((l) => !a.labels.includes(l));
  const size = (ls: readonly string[]) => sizeOf(ls.map((l) => sizes.get(l)!));
  const lhs = arrange(a, [...batch, ...left, ...contracted]).reshape([
    size(batch),
    size(left),
    size(contracted),
  ]);
  const rhs = arrange(b, [...batch, ...contracted, ...right]).reshape([
    size(batch),
    size(contracted),
    size(right),
  ]);
  const labels = [...batch, ...left, ...right];
  return { t: matmul(lhs, rhs).reshape(labels.map((l) => sizes.get(l)!)), labels };
}

/** The labels the output and every operand but those at `skip` hold: what must survive them. */
function neededBeyond(
  ops: readonly Labelled[],
  output: readonly string[],
  ...skip: number[]
): Set<string> {
  return new Set([...output, ...ops.filter((_, k) => !skip.includes(k)).flatMap((o) => o.labels)]);
}

/** The operand's tensor with its dims permuted into the order of `labels`. */
function arrange(op: Labelled, labels: readonly string[]): Tensor {
  return permute(op.t, labels.map((l) => op.labels.indexOf(l)));
}
