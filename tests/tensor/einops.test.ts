// einops against hand-worked arrays, naive index loops written here, round trips, the core
// reductions, and one test per error message.
import * as assert from "node:assert/strict";
import { rearrange, reduce, repeat } from "../../engine/tensor/einops.ts";
import { max, mean, min, prod, sum } from "../../engine/tensor/reduce.ts";
import { arange, type Tensor, tensor } from "../../engine/tensor/tensor.ts";
import { randn } from "../../engine/tensor/random.ts";
import { square } from "../../engine/tensor/elementwise.ts";
import { assertClose } from "../helpers.ts";

/** A tensor of `shape` whose element at index `i` is `f(i)`, for expected values from loops. */
function build(shape: number[], f: (...i: number[]) => number): Tensor {
  const data: number[] = [];
  const walk = (prefix: number[]): void => {
    if (prefix.length === shape.length) {
      data.push(f(...prefix));
      return;
    }
    for (let i = 0; i < shape[prefix.length]!; i++) walk([...prefix, i]);
  };
  walk([]);
  return tensor(data, shape);
}

function assertSame(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.deepEqual([...actual.data], [...expected.data], `${what}: values`);
}

Deno.test("rearrange transposes and flattens (hand-worked)", () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(rearrange(x, "a b -> b a").toNested(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(rearrange(x, "a b -> (a b)").toNested(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(rearrange(x, "a b -> (b a)").toNested(), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(rearrange(x, "a b -> a b").toNested(), [[1, 2, 3], [4, 5, 6]]);
  const y = arange(24).reshape([2, 3, 4]);
  assertSame(
    rearrange(y, "a b c -> c a b"),
    build([4, 2, 3], (c, a, b) => a! * 12 + b! * 4 + c!),
    "cab",
  );
});

Deno.test("rearrange splits (h w) -> h w element by element", () => {
  const x = arange(12);
  const expected = build([3, 4], (i, j) => i! * 4 + j!);
  assertSame(rearrange(x, "(h w) -> h w", { h: 3 }), expected, "h given");
  assertSame(rearrange(x, "(h w) -> h w", { w: 4 }), expected, "w given");
  assertSame(rearrange(x, "(h w) -> h w", { h: 3, w: 4 }), expected, "both given");
  assertSame(rearrange(x, "(h w) -> w h", { h: 3 }), build([4, 3], (j, i) => i! * 4 + j!), "w h");
  assert.equal(rearrange(x, "(h w) -> h w", { h: 3 }).dtype, "i32");
});

Deno.test("rearrange adds and removes unit axes with 1 and ()", () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(rearrange(x, "a b -> a 1 b").shape, [2, 1, 3]);
  assert.deepEqual(rearrange(x, "a b -> () a () b ()").shape, [1, 2, 1, 3, 1]);
  const z = rearrange(x, "a b -> a 1 b");
  assertSame(rearrange(z, "a 1 b -> a b"), x, "back");
  assertSame(rearrange(z, "a () b -> b a"), rearrange(x, "a b -> b a"), "() on the left");
  assert.deepEqual(rearrange(x, "a b -> (a 1 b)").shape, [6]);
  assert.deepEqual(rearrange(tensor(7), " -> 1 1").toNested(), [[7]]);
  assert.deepEqual(rearrange(tensor([7]), "1 -> ").toNested(), 7);
});

Deno.test("rearrange with ellipsis, also inside parentheses on the right", () => {
  const x = randn([2, 3, 4, 5], { seed: 1 });
  assertSame(rearrange(x, "b ... -> b (...)"), x.reshape([2, 60]), "b (...)");
  assertSame(rearrange(x, "... c -> c ..."), rearrange(x, "a b d c -> c a b d"), "... c");
  assertSame(rearrange(x, "b ... c -> (b c) ..."), rearrange(x, "b h w c -> (b c) h w"), "mid");
  // `...` may stand for no dimensions at all.
  const m = randn([3, 4], { seed: 2 });
  assertSame(rearrange(m, "a ... b -> b ... a"), rearrange(m, "a b -> b a"), "empty ...");
  assertSame(rearrange(m, "a b ... -> (a ...) b"), m, "empty (...)");
});

Deno.test("rearrange then its inverse returns the data (random shapes and patterns)", () => {
  type Sizes = Record<string, number>;
  const cases: [number[], string, Sizes, string, Sizes][] = [
    [[6, 4], "(h w) c -> c w h", { h: 2 }, "c w h -> (h w) c", {}],
    [[2, 3, 4, 5], "b c h w -> b (h w) c", {}, "b (h w) c -> b c h w", { h: 4 }],
    [[2, 3, 4, 5], "b ... w -> w (...) b", {}, "w (c h) b -> b c h w", { c: 3 }],
    [[3, 2, 4], "... -> (...)", {}, "(a b c) -> a b c", { a: 3, b: 2 }],
    [[2, 12, 7], "b (h1 h) w -> (b h1) w h", { h1: 3 }, "(b h1) w h -> b (h1 h) w", { b: 2 }],
    [[4, 1, 6], "x 1 (y z) -> z () y x", { z: 2 }, "z () y x -> x 1 (y z)", {}],
    [[2, 3, 4], "a ... -> ... a", {}, "... a -> a ...", {}],
  ];
  cases.forEach(([shape, forward, forwardSizes, back, backSizes], k) => {
    const x = randn(shape, { seed: 10 + k });
    const y = rearrange(x, forward, forwardSizes);
    assert.equal(y.size, x.size, forward);
    assertSame(rearrange(y, back, backSizes), x, `${forward} then ${back}`);
  });
});

Deno.test("repeat h w -> h w c copies each pixel into every channel", () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const y = repeat(x, "h w -> h w c", { c: 3 });
  assertSame(y, build([2, 3, 3], (i, j) => x.get(i!, j!)), "h w c");
  assertSame(repeat(x, "h w -> h w 3"), y, "anonymous 3");
  assertSame(
    repeat(x, "h w -> c h w", { c: 2 }),
    build([2, 2, 3], (_, i, j) => x.get(i!, j!)),
    "c h w",
  );
});

Deno.test("repeat (h 2) repeats each row in place, (2 h) tiles the whole", () => {
  const x = tensor([1, 2, 3, 4], [2, 2]);
  assert.deepEqual(repeat(x, "h w -> (h 2) w").toNested(), [[1, 2], [1, 2], [3, 4], [3, 4]]);
  assert.deepEqual(repeat(x, "h w -> (2 h) w").toNested(), [[1, 2], [3, 4], [1, 2], [3, 4]]);
  assert.deepEqual(repeat(x, "h w -> h (w r)", { r: 3 }).toNested(), [
    [1, 1, 1, 2, 2, 2],
    [3, 3, 3, 4, 4, 4],
  ]);
  // Upsampling each pixel to a 2×2 square, as in einops' docs.
  assert.deepEqual(repeat(x, "h w -> (h h2) (w w2)", { h2: 2, w2: 2 }).toNested(), [
    [1, 1, 2, 2],
    [1, 1, 2, 2],
    [3, 3, 4, 4],
    [3, 3, 4, 4],
  ]);
  assert.deepEqual(repeat(tensor(5), " -> 3").toNested(), [5, 5, 5]);
  assert.equal(repeat(arange(2), "w -> 2 w").dtype, "i32");
});

Deno.test("reduce sum/mean/max/min/prod: hand values and the core reductions", () => {
  const x = tensor([1, -2, 3, 4, 5, -6], [2, 3]);
  assert.deepEqual([...reduce(x, "a b -> b", "sum").data], [5, 3, -3]);
  assert.deepEqual([...reduce(x, "a b -> a", "mean").data], [2 / 3, 1]);
  assert.deepEqual([...reduce(x, "a b -> a", "max").data], [3, 5]);
  assert.deepEqual([...reduce(x, "a b -> b", "min").data], [1, -2, -6]);
  assert.deepEqual([...reduce(x, "a b -> a", "prod").data], [-6, -120]);
  assert.deepEqual(reduce(x, "a b ->", "sum").toNested(), 5);

  const y = randn([3, 4, 5], { seed: 3 });
  const core = { sum, mean, max, min, prod } as const;
  for (const name of ["sum", "mean", "max", "min", "prod"] as const) {
    assertClose(reduce(y, "a b c -> b", name), core[name](y, [0, 2]), 1e-15, `${name} a b c -> b`);
    assertClose(
      reduce(y, "a b c -> c a", name),
      rearrange(core[name](y, 1), "a c -> c a"),
      1e-15,
      `${name} a b c -> c a`,
    );
    assertClose(reduce(y, "... -> ", name), core[name](y), 1e-15, `${name} all`);
  }
});

Deno.test("reduce keeps unit axes on the right and reduces what ... leaves out", () => {
  const x = randn([2, 3, 4, 5], { seed: 4 });
  const perImage = reduce(x, "b c h w -> b c () ()", "mean");
  assert.deepEqual(perImage.shape, [2, 3, 1, 1]);
  assertClose(perImage, mean(x, [2, 3], { keepdims: true }), 1e-15, "b c () ()");
  assertClose(
    reduce(x, "b c h w -> 1 c 1 1", "mean"),
    mean(x, [0, 2, 3], { keepdims: true }),
    1e-15,
    "1 c 1 1",
  );
  assertClose(reduce(x, "b ... -> b", "sum"), sum(x, [1, 2, 3]), 1e-14, "b ... -> b");
  assertClose(
    reduce(x, "... w -> w ...", "max"),
    rearrange(x, "... w -> w ..."),
    0,
    "nothing reduced",
  );
});

Deno.test("reduce with a function gets the tensor and the axes to reduce", () => {
  const x = randn([2, 3, 4], { seed: 5 });
  const seen: number[][] = [];
  const sumOfSquares = (t: Tensor, axes: number[]) => {
    seen.push(axes);
    return sum(square(t), axes);
  };
  const got = reduce(x, "a b c -> b", sumOfSquares);
  assert.deepEqual(seen, [[0, 2]]);
  assertClose(
    got,
    build([3], (j) => {
      let s = 0;
      for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s += x.get(i, j!, k) ** 2;
      return s;
    }),
    1e-14,
    "sum of squares",
  );
  // Axes of a decomposed dimension are reduced as elementary axes, counted after the split.
  reduce(x, "a b (c1 c2) -> a c1", sumOfSquares, { c2: 2 });
  assert.deepEqual(seen[1], [1, 3]);
});

Deno.test("image examples from einops' docs against naive loops", () => {
  const [B, H, W, C] = [2, 4, 6, 3];
  const images = randn([B, H, W, C], { seed: 6 });
  const at = (b: number, h: number, w: number, c: number) => images.get(b, h, w, c);

  const stacked = rearrange(images, "b h w c -> (b h) w c");
  assertSame(
    stacked,
    build([B * H, W, C], (bh, w, c) => at(Math.floor(bh! / H), bh! % H, w!, c!)),
    "(b h)",
  );

  const wide = rearrange(images, "b h w c -> h (b w) c");
  assertSame(
    wide,
    build([H, B * W, C], (h, bw, c) => at(Math.floor(bw! / W), h!, bw! % W, c!)),
    "(b w)",
  );

  const pooled = reduce(images, "b (h h2) (w w2) c -> b h w c", "max", { h2: 2, w2: 2 });
  const expected = build([B, H / 2, W / 2, C], (b, h, w, c) => {
    let best = -Infinity;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) best = Math.max(best, at(b!, 2 * h! + i, 2 * w! + j, c!));
    }
    return best;
  });
  assertSame(pooled, expected, "2x2 max pooling");
  assertSame(reduce(images, "b (h 2) (w 2) c -> b h w c", "max"), expected, "anonymous pooling");

  const depth = rearrange(images, "b (h h1) (w w1) c -> b h w (c h1 w1)", { h1: 2, w1: 2 });
  assertSame(
    depth,
    build([B, H / 2, W / 2, C * 4], (b, h, w, k) => {
      const [c, h1, w1] = [Math.floor(k! / 4), Math.floor(k! / 2) % 2, k! % 2];
      return at(b!, 2 * h! + h1, 2 * w! + w1, c);
    }),
    "space to depth",
  );

  const quarters = rearrange(images, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", { h1: 2, w1: 2 });
  assertSame(
    quarters,
    build([B * 4, H / 2, W / 2, C], (n, h, w, c) => {
      const [b, h1, w1] = [Math.floor(n! / 4), Math.floor(n! / 2) % 2, n! % 2];
      return at(b, h1 * (H / 2) + h!, w1 * (W / 2) + w!, c!);
    }),
    "quarters",
  );
});

/** Asserts that `f` throws an error whose message is exactly `prefix: detail`. */
function assertError(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("errors: wrong number of dimensions", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => rearrange(x, "a b c -> a b c"),
    'rearrange("a b c -> a b c", shape [2, 3]): Wrong shape: expected 3 dims. Received 2-dim tensor.',
  );
  assertError(
    () => rearrange(x, "a b c ... -> a b c ..."),
    'rearrange("a b c ... -> a b c ...", shape [2, 3]): ' +
      "Wrong shape: expected >=3 dims. Received 2-dim tensor.",
  );
});

Deno.test("errors: axes on one side only", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => rearrange(x, "b c -> c"),
    'rearrange("b c -> c", shape [2, 3]): ' +
      "Identifiers only on one side of expression (should be on both): {b}",
  );
  assertError(
    () => rearrange(x, "b c -> c b d"),
    'rearrange("b c -> c b d", shape [2, 3]): ' +
      "Identifiers only on one side of expression (should be on both): {d}",
  );
  assertError(
    () => repeat(x, "b c -> c"),
    'repeat("b c -> c", shape [2, 3]): Unexpected identifiers on the left side of repeat: {b}',
  );
  assertError(
    () => reduce(x, "b c -> b c d", "sum"),
    'reduce("b c -> b c d", "sum", shape [2, 3]): ' +
      "Unexpected identifiers on the right side of reduce sum: {d}",
  );
});

Deno.test("errors: duplicate axis, bad names, bad characters, missing arrow", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => rearrange(x, "a a -> a"),
    'rearrange("a a -> a", shape [2, 3]): Indexing expression contains duplicate dimension "a"',
  );
  assertError(
    () => rearrange(x, "a b -> (a b) a"),
    'rearrange("a b -> (a b) a", shape [2, 3]): ' +
      'Indexing expression contains duplicate dimension "a"',
  );
  assertError(
    () => rearrange(x, "2a b -> b 2a"),
    'rearrange("2a b -> b 2a", shape [2, 3]): Invalid axis identifier: 2a ' +
      "(names are letters, digits and underscores, not starting with a digit)",
  );
  // einops 0.8.2 rejects names starting or ending with "_" (its message says "should should").
  for (const name of ["a_", "_a", "_"]) {
    assertError(
      () => rearrange(x, `${name} b -> b ${name}`),
      `rearrange("${name} b -> b ${name}", shape [2, 3]): Invalid axis identifier: ${name} ` +
        "(axis name should not start or end with underscore)",
    );
  }
  assert.deepEqual(rearrange(x, "a_1 b -> b a_1").shape, [3, 2]);
  assertError(
    () => rearrange(x, "a b -> a*b"),
    `rearrange("a b -> a*b", shape [2, 3]): Unknown character '*'`,
  );
  assertError(
    () => rearrange(x, "a b a b"),
    'rearrange("a b a b", shape [2, 3]): Pattern must contain "->" exactly once',
  );
  assertError(
    () => repeat(x, "a b -> a b 0"),
    'repeat("a b -> a b 0", shape [2, 3]): Anonymous axis should have positive length, not 0',
  );
});

Deno.test("errors: unbalanced and nested parentheses", () => {
  const x = arange(6);
  assertError(
    () => rearrange(x, "(a -> a", { a: 6 }),
    'rearrange("(a -> a", shape [6], { a: 6 }): Imbalanced parentheses in expression: "(a"',
  );
  assertError(
    () => rearrange(x, "a) -> a"),
    'rearrange("a) -> a", shape [6]): Brackets are not balanced',
  );
  assertError(
    () => rearrange(x, "((a b)) -> a b", { a: 2 }),
    'rearrange("((a b)) -> a b", shape [6], { a: 2 }): ' +
      "Axis composition is one-level (brackets inside brackets not allowed)",
  );
});

Deno.test("errors: sizes that do not divide, contradict the shape, or cannot be inferred", () => {
  const x = arange(6);
  assertError(
    () => rearrange(x, "(h w) -> h w", { h: 4 }),
    'rearrange("(h w) -> h w", shape [6], { h: 4 }): ' +
      "Shape mismatch, can't divide axis of length 6 in chunks of 4 for dim 0 = (h w)",
  );
  assertError(
    () => rearrange(x, "h -> h", { h: 5 }),
    'rearrange("h -> h", shape [6], { h: 5 }): Shape mismatch, 6 != 5 for dim 0 = (h)',
  );
  assertError(
    () => rearrange(arange(6).reshape([2, 3]), "a 1 -> a"),
    'rearrange("a 1 -> a", shape [2, 3]): Shape mismatch, 3 != 1 for dim 1 = ()',
  );
  assertError(
    () => rearrange(x, "(h w) -> h w"),
    'rearrange("(h w) -> h w", shape [6]): Could not infer sizes for {h, w}',
  );
  assertError(
    () => rearrange(x, "(h w) -> h w", { h: 1.5 }),
    'rearrange("(h w) -> h w", shape [6], { h: 1.5 }): ' +
      "Size of axis h must be a non-negative integer, not 1.5",
  );
});

Deno.test("errors: sizes for unknown axes, new axes without sizes", () => {
  const x = arange(6);
  assertError(
    () => rearrange(x, "h -> h", { w: 2 }),
    'rearrange("h -> h", shape [6], { w: 2 }): Axis w is not used in transform',
  );
  assertError(
    () => repeat(x, "h -> h c"),
    'repeat("h -> h c", shape [6]): Specify sizes for new axes in repeat: {c}',
  );
});

Deno.test("errors: non-unit anonymous axes where einops forbids them", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => rearrange(x, "a b -> a b 2"),
    'rearrange("a b -> a b 2", shape [2, 3]): ' +
      "Non-unitary anonymous axes are not supported in rearrange (exception is length 1)",
  );
  assertError(
    () => repeat(x, "a 3 -> a"),
    'repeat("a 3 -> a", shape [2, 3]): Unexpected identifiers on the left side of repeat: {3-axis}',
  );
  assertError(
    () => reduce(x, "a b -> a b 2", "max"),
    'reduce("a b -> a b 2", "max", shape [2, 3]): ' +
      "Unexpected identifiers on the right side of reduce max: {2-axis}",
  );
});

Deno.test("errors: ellipsis twice, stray dots, misplaced ellipsis", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => rearrange(x, "... a ... -> a"),
    'rearrange("... a ... -> a", shape [2, 3]): ' +
      "Expression may contain dots only inside ellipsis (...); only one ellipsis for tensor",
  );
  assertError(
    () => rearrange(x, "a.b -> a"),
    'rearrange("a.b -> a", shape [2, 3]): Expression may contain dots only inside ellipsis (...)',
  );
  assertError(
    () => rearrange(x, "a b -> a b ..."),
    'rearrange("a b -> a b ...", shape [2, 3]): ' +
      "Ellipsis found in right side, but not left side of a pattern",
  );
  assertError(
    () => rearrange(x, "(a ...) -> a ...", { a: 2 }),
    'rearrange("(a ...) -> a ...", shape [2, 3], { a: 2 }): ' +
      "Ellipsis inside parenthesis in the left side is not allowed",
  );
  assertError(
    () => rearrange(x, "a ... -> a"),
    'rearrange("a ... -> a", shape [2, 3]): ' +
      "Identifiers only on one side of expression (should be on both): {...}",
  );
});

Deno.test("errors: reductions that are unknown or return the wrong shape", () => {
  const x = arange(6).reshape([2, 3]);
  assertError(
    () => reduce(x, "a b -> a", "median" as "sum"),
    'reduce("a b -> a", "median", shape [2, 3]): ' +
      "Unknown reduction median. Expect one of sum, mean, max, min, prod",
  );
  assertError(
    () => reduce(x, "a b -> a", (t) => t),
    'reduce("a b -> a", a function, shape [2, 3]): ' +
      "Reduction function returned shape [2, 3], expected shape [2] (the input without axes [1])",
  );
  // Errors that are not about the pattern pass through unchanged.
  assert.throws(() =>
    reduce(x, "a b -> a", () => {
      throw new Error("inner failure");
    }), /^Error: inner failure$/);
});
