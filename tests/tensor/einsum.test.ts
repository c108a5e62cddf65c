/**
 * Tests of `einsum`: hand-worked cases, a brute-force loop over every index assignment on seeded
 * random equations, numpy's results (`fixtures/make_einsum.py`), the named-axes form, dtypes,
 * large chains and every error message.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  einsum,
  matmul,
  permutation,
  randn,
  Rng,
  type Tensor,
  tensor,
} from "../../engine/tensor/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

/**
 * One random einsum: the equation and shapes, plus what the naive reference needs, stated
 * directly rather than parsed: the axis id of every operand dim (a letter, or `#k` for broadcast
 * dim k of the ellipsis, counted from the left of the broadcast shape), the output ids and the
 * size of every id.
 */
interface Case {
  equation: string;
  named: string | undefined;
  shapes: number[][];
  axes: string[][];
  output: string[];
  sizes: Map<string, number>;
}

/**
 * The definition of einsum, by brute force: every assignment of every id, the product of the
 * operands there (a size-1 dim under a broadcast id reads index 0), added to the output there.
 */
function naiveEinsum(c: Case, operands: readonly Tensor[]): Float64Array {
  const ids = [...c.sizes.keys()];
  const dims = ids.map((id) => c.sizes.get(id)!);
  const outSize = c.output.reduce((n, id) => n * c.sizes.get(id)!, 1);
  const out = new Float64Array(outSize);
  const value = new Array<number>(ids.length).fill(0);
  const at = (id: string) => value[ids.indexOf(id)]!;
  const total = dims.reduce((a, b) => a * b, 1);
  for (let step = 0; step < total; step++) {
    let rest = step;
    for (let k = ids.length - 1; k >= 0; k--) {
      value[k] = rest % dims[k]!;
      rest = Math.floor(rest / dims[k]!);
    }
    let product = 1;
    operands.forEach((t, i) => {
      let flat = 0;
      c.axes[i]!.forEach((id, d) => {
        flat = flat * t.shape[d]! + (t.shape[d] === 1 ? 0 : at(id));
      });
      product *= t.data[flat]!;
    });
    let o = 0;
    for (const id of c.output) o = o * c.sizes.get(id)! + at(id);
    out[o] = out[o]! + product;
  }
  return out;
}

/**
 * A random equation: 1 to 4 operands, letters drawn with replacement (so some repeat in a term),
 * sizes 1 to 6, sometimes a broadcast ellipsis, sometimes an implicit output.
 */
function randomCase(rng: Rng): Case {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const shuffle = <T>(xs: T[]): T[] =>
    Array.from(permutation(xs.length, { rng }).data, (i) => xs[i]!);
  for (;;) {
    const letters = "abcdef".slice(0, 2 + rng.int(4));
    const sizes = new Map<string, number>();
    for (const l of letters) sizes.set(l, pick([1, 2, 3, 3, 5, 6]));
    const nOps = pick([1, 2, 2, 3, 3, 4, 4]);
    const batch = rng.uniform() < 0.35
      ? Array.from({ length: 1 + rng.int(2) }, () => pick([2, 3, 5]))
      : [];
    const terms: string[][] = [];
    const shapes: number[][] = [];
    const axes: string[][] = [];
    for (let i = 0; i < nOps; i++) {
      const own = Array.from({ length: rng.int(4) }, () => pick([...letters]));
      const useEllipsis = batch.length > 0 && (i === 0 || rng.uniform() < 0.6);
      const span = useEllipsis ? (i === 0 ? batch.length : rng.int(batch.length + 1)) : 0;
      const ids = [...own];
      const shape = own.map((l) => sizes.get(l)!);
      const pos = rng.int(own.length + 1);
      const term = [...own];
      if (useEllipsis) {
        term.splice(pos, 0, "...");
        const bIds = batch.slice(batch.length - span).map((_, d) => `#${batch.length - span + d}`);
        const bShape = batch.slice(batch.length - span).map((s) => (rng.uniform() < 0.25 ? 1 : s));
        ids.splice(pos, 0, ...bIds);
        shape.splice(pos, 0, ...bShape);
      }
      terms.push(term);
      shapes.push(shape);
      axes.push(ids);
    }
    // The broadcast size of each ellipsis dim is the largest any operand gives it.
    for (const [i, ids] of axes.entries()) {
      ids.forEach((id, d) => {
        if (id.startsWith("#")) sizes.set(id, Math.max(sizes.get(id) ?? 1, shapes[i]![d]!));
      });
    }
    const used = [...new Set(terms.flat().filter((l) => l !== "..."))];
    for (const l of letters) if (!used.includes(l)) sizes.delete(l);
    const batchIds = [...sizes.keys()].filter((id) => id.startsWith("#")).sort();
    const hasEllipsis = terms.some((t) => t.includes("..."));
    let outTerm: string[] | undefined;
    let output: string[];
    if (rng.uniform() < 0.3) {
      const all = terms.flat();
      output = [...batchIds, ...used.filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort()];
    } else {
      outTerm = shuffle(used.filter(() => rng.uniform() < 0.5));
      if (hasEllipsis) outTerm.splice(rng.int(outTerm.length + 1), 0, "...");
      output = outTerm.flatMap((l) => (l === "..." ? batchIds : [l]));
    }
    const total = [...sizes.values()].reduce((a, b) => a * b, 1);
    if (total > 20000) continue;
    const join = (ts: string[][], sep: string, word: (l: string) => string) =>
      ts.map((t) => t.map(word).join(sep)).join(sep === "" ? "," : ", ");
    const equation = join(terms, "", (l) => l) + (outTerm ? "->" + outTerm.join("") : "");
    // The named form only applies when some term has two axes to put whitespace between.
    const namedOk = outTerm !== undefined && [...terms, outTerm].some((t) => t.length > 1);
    const word = (l: string) => (l === "..." ? l : `axis_${l}`);
    const named = namedOk
      ? `${join(terms, " ", word)} -> ${outTerm!.map(word).join(" ")}`
      : undefined;
    return { equation, named, shapes, axes, output, sizes };
  }
}

Deno.test("einsum: hand-worked cases", () => {
  const a = tensor([1, 2, 3, 4], [2, 2]);
  const b = tensor([5, 6, 7, 8], [2, 2]);
  const m = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const same = (t: Tensor, shape: number[], data: number[], what: string) => {
    assert.deepEqual(t.shape, shape, what);
    assert.deepEqual([...t.data], data, what);
  };
  same(einsum("ij,jk->ik", a, b), [2, 2], [19, 22, 43, 50], "matmul");
  same(einsum("ij,jk", a, b), [2, 2], [19, 22, 43, 50], "implicit matmul");
  same(einsum("i,j->ij", tensor([1, 2]), tensor([3, 4, 5])), [2, 3], [3, 4, 5, 6, 8, 10], "outer");
  same(einsum("ii->", a), [], [5], "trace");
  same(einsum("ii", a), [], [5], "implicit trace");
  same(einsum("ii->i", a), [2], [1, 4], "diagonal");
  same(einsum("ij->ji", m), [3, 2], [1, 4, 2, 5, 3, 6], "transpose");
  same(einsum("ba", m), [3, 2], [1, 4, 2, 5, 3, 6], "implicit output is sorted");
  same(einsum("aB", m), [3, 2], [1, 4, 2, 5, 3, 6], "upper case sorts first, as numpy");
  same(einsum("ij->", m), [], [21], "sum of all");
  same(einsum("ij->j", m), [3], [5, 7, 9], "column sums");
  const ba = tensor([1, 2, 5, 6], [2, 1, 2]);
  const bb = tensor([3, 4, 7, 8], [2, 2, 1]);
  same(einsum("bij,bjk->bik", ba, bb), [2, 1, 1], [11, 83], "batch matmul");
  same(einsum("i,ij,j->", tensor([1, 2]), a, tensor([5, 6])), [], [95], "bilinear");
  const cube = tensor(Array.from({ length: 18 }, (_, i) => i), [3, 3, 2]);
  same(einsum("iij->ij", cube), [3, 2], [0, 1, 8, 9, 16, 17], "partial diagonal");
  same(einsum(",i->i", tensor(2), tensor([1, 2, 3])), [3], [2, 4, 6], "scalar operand");
  same(einsum("...i,...i", a, b), [2], [17, 53], "row-wise dot");
  const ones = tensor([1, 1, 1, 1], [2, 1, 2]);
  const rows = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  const broadcast = einsum("...i,...i->...", ones, rows);
  same(broadcast, [2, 3], [3, 7, 11, 3, 7, 11], "ellipsis broadcasts size-1 and missing dims");
});

Deno.test("einsum: matches a naive loop on 60 random equations", () => {
  const rng = new Rng(1234);
  const seen = { repeated: 0, three: 0, four: 0, ellipsis: 0, implicit: 0, broadcast1: 0 };
  for (let n = 0; n < 60; n++) {
    const c = randomCase(rng);
    const operands = c.shapes.map((s) => randn(s, { rng }));
    const got = einsum(c.equation, ...operands);
    const shape = c.output.map((id) => c.sizes.get(id)!);
    assertClose(
      got,
      tensor(naiveEinsum(c, operands), shape),
      1e-12,
      `"${c.equation}" on ${JSON.stringify(c.shapes)}`,
    );
    if (c.axes.some((ids) => new Set(ids).size < ids.length)) seen.repeated++;
    if (c.shapes.length === 3) seen.three++;
    if (c.shapes.length === 4) seen.four++;
    if (c.equation.includes("...")) seen.ellipsis++;
    if (!c.equation.includes("->")) seen.implicit++;
    if (
      c.axes.some((ids, i) =>
        ids.some((id, d) => id.startsWith("#") && c.shapes[i]![d] === 1 && c.sizes.get(id)! > 1)
      )
    ) {
      seen.broadcast1++;
    }
  }
  // The generator must really have produced every feature the test claims to cover.
  for (const [feature, count] of Object.entries(seen)) {
    assert.ok(count >= 3, `${feature}: only ${count} cases`);
  }
});

Deno.test("einsum: named axes give the same result as letters", () => {
  const rng = new Rng(99);
  const q = randn([2, 3, 4], { rng });
  const k = randn([2, 5, 4], { rng });
  assert.deepEqual(
    einsum("batch i d, batch j d -> batch i j", q, k).data,
    einsum("bid,bjd->bij", q, k).data,
  );
  const v = randn([4], { rng });
  assert.deepEqual(einsum("batch i d, d -> batch i", q, v).data, einsum("bid,d->bi", q, v).data);
  assert.deepEqual(einsum("b ... d, d -> ... b", q, v).data, einsum("b...d,d->...b", q, v).data);
  let compared = 0;
  for (let n = 0; n < 60; n++) {
    const c = randomCase(rng);
    if (c.named === undefined) continue;
    const operands = c.shapes.map((s) => randn(s, { rng }));
    assert.deepEqual(
      einsum(c.named, ...operands).data,
      einsum(c.equation, ...operands).data,
      c.named,
    );
    compared++;
  }
  assert.ok(compared >= 20, `only ${compared} named equations compared`);
});

Deno.test("einsum: matches numpy's fixtures", async () => {
  interface Fixture {
    cases: { equation: string; operands: FixtureArray[]; result: FixtureArray }[];
  }
  const { cases } = await loadFixture<Fixture>("einsum");
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    assertClose(
      einsum(c.equation, ...c.operands.map(fromFixture)),
      fromFixture(c.result),
      1e-10,
      c.equation,
    );
  }
});

Deno.test("einsum: the result has the promoted dtype of the operands", () => {
  const rng = new Rng(7);
  const a = randn([3, 4], { rng });
  const b = randn([4, 5], { rng });
  const a32 = a.astype("f32");
  const b32 = b.astype("f32");
  const r32 = einsum("ij,jk->ik", a32, b32);
  assert.equal(r32.dtype, "f32");
  assertClose(r32, einsum("ij,jk->ik", a32.astype("f64"), b32.astype("f64")), 1e-6, "f32 matmul");
  assert.equal(einsum("ij->ji", a32).dtype, "f32");
  assert.equal(einsum("ij,jk->ik", a32, b).dtype, "f64");
  assert.equal(einsum("ij,jk->ik", a32, b.astype("i32")).dtype, "f32");
  const i = tensor([1, 2, 3, 4], [2, 2], "i32");
  assert.equal(einsum("ii", i).dtype, "i32");
  assert.equal(
    einsum("i,ij,j->", tensor([1, 2], [2], "i32"), i, tensor([1, 1], [2], "f32")).dtype,
    "f32",
  );
});

Deno.test("einsum: chains of 200x200 matrices contract pairwise", () => {
  const rng = new Rng(3);
  const [a, b, c] = [0, 1, 2].map(() => randn([200, 200], { rng })) as [Tensor, Tensor, Tensor];
  const expected = matmul(matmul(a, b), c);
  assertClose(einsum("ij,jk,kl->il", a, b, c), expected, 1e-9, "ij,jk,kl->il");
  // Left to right this would first build the 200^4 outer product of a and c.
  assertClose(einsum("ij,kl,jk->il", a, c, b), expected, 1e-9, "ij,kl,jk->il");
});

Deno.test("einsum: errors name what is wrong", () => {
  const m = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const sq = tensor([1, 2, 3, 4], [2, 2]);
  const cases: [() => unknown, RegExp][] = [
    [() => einsum("ij,jk->ik", m), /"ij,jk->ik" has 2 input terms but 1 operands were given/],
    [() => einsum("ij", m, m), /"ij" has 1 input terms but 2 operands were given/],
    [() => einsum("ijk->i", m), /term "ijk" of operand 0 has 3 indices but the operand has 2 dims/],
    [
      () => einsum("i j k -> i", m),
      /term "i j k" of operand 0 has 3 indices but the operand has 2/,
    ],
    [
      () => einsum("...ijk->...", m),
      /term "...ijk" of operand 0 has at least 3 indices but the operand has 2 dims/,
    ],
    [() => einsum("ij,jk->ik", m, m), /index 'j' has size 3 in operand 0 but size 2 in operand 1/],
    [() => einsum("ii->i", m), /index 'i' has size 2 in operand 0 but size 3 in operand 0/],
    [
      () => einsum("...i,...i->...", m, tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3])),
      /"..." dim 0 has size 2 in operand 0 but size 3 in operand 1/,
    ],
    [() => einsum("ij->k", m), /output index 'k' appears in no input/],
    [() => einsum("ij->ii", sq), /output index 'i' appears more than once/],
    [() => einsum("ij->...ij", m), /the output has "..." but no input does/],
    [() => einsum("...j->j", m), /the inputs' "..." covers 1 dims but the output has no "..."/],
    [() => einsum("i1->i", m), /invalid character '1' in term "i1"/],
    [() => einsum("i.j->i", m), /invalid character '.' in term "i.j"/],
    [() => einsum("ij->i;", m), /invalid character ';' in term "i;"/],
    [() => einsum("b 2d -> b", m), /invalid axis name '2d' in term "b 2d"/],
    [() => einsum("b d_ -> b", m), /invalid axis name 'd_' in term "b d_"/],
    [() => einsum("...i...->i", m), /term "...i..." has more than one "..."/],
    [() => einsum("ij->ij->ij", m), /"ij->ij->ij" has more than one "->"/],
    [
      () => einsum("i j, j k", m, m),
      /"i j, j k" names its axes, so it needs an explicit "->" output/,
    ],
  ];
  for (const [fn, message] of cases) assert.throws(fn, message);
});
