// The tensor core against hand-worked cases and numpy (fixtures/make_core.py).
import * as assert from "node:assert/strict";
import {
  add,
  arange,
  argmax,
  argmin,
  broadcastShapes,
  broadcastTo,
  concat,
  div,
  exp,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  mean,
  min,
  mul,
  permute,
  pow,
  prod,
  relu,
  slice,
  softmax,
  square,
  squeeze,
  stack,
  sub,
  sum,
  take,
  tensor,
  transpose,
  unsqueeze,
  zeros,
} from "../../engine/tensor/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

interface CoreFixture {
  broadcast: Record<"a" | "b" | "add" | "sub" | "mul" | "div" | "b_shifted", FixtureArray>[];
  reduce: (
    & { axes: number | number[] | null }
    & Record<
      "x" | "sum" | "mean" | "max" | "min" | "prod",
      FixtureArray
    >
  )[];
  argmax: Record<"x" | "axis1" | "axis_last", FixtureArray>;
  matmul: Record<"a" | "b" | "out", FixtureArray>[];
  softmax: ({ axis: number } & Record<"x" | "softmax" | "logsumexp", FixtureArray>)[];
  slice: { spec: string; out: FixtureArray }[];
  slice_source: FixtureArray;
}
const fx = await loadFixture<CoreFixture>("core");

Deno.test("tensor: construction, dtypes, get and toArray copy", () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], "f32");
  assert.equal(t.dtype, "f32");
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.get(1, 2), 6);
  assert.equal(t.get(-1, 0), 4);
  const copy = t.toArray();
  copy[0] = 100;
  assert.equal(t.get(0, 0), 1);
  assert.equal(tensor(new Int32Array([1, 2])).dtype, "i32");
  assert.equal(tensor([1.5]).dtype, "f64");
  assert.deepEqual(tensor([1, 2, 3, 4], [2, 2]).toNested(), [[1, 2], [3, 4]]);
  assert.equal(tensor(7).ndim, 0);
  assert.deepEqual([...tensor([1.9, -1.9]).astype("i32").data], [1, -1]);
  assert.throws(
    () => tensor([1, 2, 3], [2, 2]),
    /shape \[2,2\] holds 4 elements but the data has 3/,
  );
  assert.throws(() => tensor([1.5], [1], "i32"), /non-integer value 1.5/);
  assert.throws(() => t.get(2, 0), /index 2 is out of range for dim 0 of size 2/);
  assert.deepEqual(t.reshape([3, -1]).shape, [3, 2]);
  assert.throws(() => t.reshape([4, -1]), /cannot reshape 6 elements into \[4,-1\]/);
  assert.deepEqual([...arange(1, 7, 2).data], [1, 3, 5]);
});

Deno.test("broadcast: shapes, and the error names both shapes and the dimension", () => {
  assert.deepEqual(broadcastShapes([1, 2, 4], [3, 2, 4]), [3, 2, 4]);
  assert.deepEqual(broadcastShapes([5, 1, 7], [6, 1]), [5, 6, 7]);
  assert.throws(
    () => add(zeros([1, 3, 4]), zeros([3, 2, 4])),
    { message: "cannot broadcast [1,3,4] with [3,2,4]: dim 1 is 3 vs 2" },
  );
  assert.deepEqual([...broadcastTo(tensor([1, 2]), [2, 2]).data], [1, 2, 1, 2]);
  assert.throws(() => broadcastTo(zeros([2, 3]), [3]), /cannot broadcast \[2,3\] to \[3\]/);
});

Deno.test("elementwise: add, sub, mul, div against numpy on broadcast shapes", () => {
  for (const c of fx.broadcast) {
    const a = fromFixture(c.a);
    const b = fromFixture(c.b);
    const what = `[${a.shape}] with [${b.shape}]`;
    assertClose(add(a, b), fromFixture(c.add), 1e-15, `add ${what}`);
    assertClose(sub(a, b), fromFixture(c.sub), 1e-15, `sub ${what}`);
    assertClose(mul(a, b), fromFixture(c.mul), 1e-15, `mul ${what}`);
    assertClose(div(a, fromFixture(c.b_shifted)), fromFixture(c.div), 1e-14, `div ${what}`);
  }
});

Deno.test("elementwise: dtypes follow promotion and weak scalars", () => {
  const i = tensor([1, 2, 3], [3], "i32");
  const f = tensor([0.5, 0.5, 0.5], [3], "f32");
  assert.equal(add(i, i).dtype, "i32");
  assert.equal(add(i, f).dtype, "f32");
  assert.equal(add(f, tensor([1, 1, 1])).dtype, "f64");
  assert.equal(mul(f, 2).dtype, "f32");
  assert.equal(div(i, 2).dtype, "f64");
  assert.deepEqual([...div(i, 2).data], [0.5, 1, 1.5]);
  assert.equal(add(i, 0.5).dtype, "f64");
  assert.deepEqual([...relu(tensor([-1, 0, 2])).data], [0, 0, 2]);
  assertClose(log(exp(tensor([0.25, -3]))), tensor([0.25, -3]), 1e-15, "log(exp(x))");
  assert.deepEqual([...sub(10, tensor([1, 2])).data], [9, 8]);
});

Deno.test("reductions: sum, mean, max, min, prod against numpy over axis sets", () => {
  for (const c of fx.reduce) {
    const x = fromFixture(c.x);
    const axes = c.axes ?? undefined;
    const what = `axes ${JSON.stringify(c.axes)}`;
    assertClose(sum(x, axes), fromFixture(c.sum), 1e-13, `sum ${what}`);
    assertClose(mean(x, axes), fromFixture(c.mean), 1e-14, `mean ${what}`);
    assertClose(max(x, axes), fromFixture(c.max), 0, `max ${what}`);
    assertClose(min(x, axes), fromFixture(c.min), 0, `min ${what}`);
    assertClose(prod(x, axes), fromFixture(c.prod), 1e-12, `prod ${what}`);
  }
  const x = fromFixture(fx.argmax.x);
  assert.deepEqual([...argmax(x, 1).data], fx.argmax.axis1.data);
  assert.deepEqual([...argmin(x).data], fx.argmax.axis_last.data);
  assert.deepEqual(sum(x, [0, 2], { keepdims: true }).shape, [1, 4, 1]);
  assert.equal(mean(tensor([1, 2], [2], "i32")).dtype, "f64");
  assert.throws(() => sum(x, 3), /axis 3 is out of range for a tensor of 3 dimensions/);
  assert.throws(() => sum(x, [1, -2]), /repeated axis/);
});

Deno.test("matmul: against numpy, with 1-D operands and broadcast batch dims", () => {
  for (const c of fx.matmul) {
    const a = fromFixture(c.a);
    const b = fromFixture(c.b);
    assertClose(matmul(a, b), fromFixture(c.out), 1e-13, `[${a.shape}] @ [${b.shape}]`);
  }
  const hand = matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2]));
  assert.deepEqual([...hand.data], [19, 22, 43, 50]);
  assert.equal(matmul(zeros([2, 2], "f32"), zeros([2, 2], "f32")).dtype, "f32");
  assert.throws(
    () => matmul(zeros([2, 3]), zeros([4, 2])),
    { message: "matmul: [2,3] @ [4,2]: inner dims 3 and 4 differ" },
  );
  assert.throws(
    () => matmul(zeros([2, 1, 2]), zeros([3, 2, 1])),
    /matmul: batch dims of \[2,1,2\] @ \[3,2,1\]: cannot broadcast \[2\] with \[3\]: dim 0 is 2 vs 3/,
  );
});

Deno.test("softmax, logSoftmax and logSumExp against numpy, stable at large values", () => {
  for (const c of fx.softmax) {
    const x = fromFixture(c.x);
    assertClose(softmax(x, c.axis), fromFixture(c.softmax), 1e-15, `softmax axis ${c.axis}`);
    assertClose(logSumExp(x, c.axis), fromFixture(c.logsumexp), 1e-14, `lse axis ${c.axis}`);
    assertClose(exp(logSoftmax(x, c.axis)), fromFixture(c.softmax), 1e-15, "exp(logSoftmax)");
  }
  assertClose(softmax(tensor([1000, 1000, -Infinity])), tensor([0.5, 0.5, 0]), 0, "large");
  assertClose(logSumExp(tensor([1000, 1000])), tensor([1000 + Math.log(2)]).reshape([]), 1e-12);
  assert.deepEqual(logSumExp(zeros([2, 3]), 0, { keepdims: true }).shape, [1, 3]);
  assert.equal(softmax(zeros([3], "f32")).dtype, "f32");
});

Deno.test("slice: numpy basic indexing, strings and lists, negative steps", () => {
  const src = fromFixture(fx.slice_source);
  for (const c of fx.slice) {
    const out = slice(src, c.spec);
    assert.deepEqual(out.shape, c.out.shape, c.spec);
    assert.deepEqual([...out.data], c.out.data, c.spec);
  }
  const t = arange(12).reshape([3, 4]);
  assert.deepEqual([...slice(t, [1, [null, null, 2]]).data], [4, 6]);
  assert.deepEqual([...slice(t, [null, -1]).data], [3, 7, 11]);
  assert.throws(() => slice(t, "0, 0, 0"), /3 entries for a tensor of 2 dimensions/);
  assert.throws(() => slice(t, "5"), /index 5 is out of range for dim 0 of size 3/);
  assert.throws(() => slice(t, "::0"), /step 0 on dim 0 must be a non-zero integer/);
  assert.throws(() => slice(t, "..., ..."), /at most one '...'/);
  assert.throws(() => slice(t, "a:"), /'a' in 'a:' is not an integer/);
});

Deno.test("take, permute, transpose, squeeze, concat and stack by hand", () => {
  const W = arange(6).reshape([3, 2]);
  const tok = tensor([2, 0, 2, 1], [2, 2], "i32");
  const emb = take(W, tok);
  assert.deepEqual(emb.shape, [2, 2, 2]);
  assert.deepEqual([...emb.data], [4, 5, 0, 1, 4, 5, 2, 3]);
  assert.deepEqual([...take(W, [1, 0], 1).data], [1, 0, 3, 2, 5, 4]);
  assert.throws(() => take(W, [3]), /index 3 is out of range for dim 0 of size 3/);

  const x = arange(24).reshape([2, 3, 4]);
  const p = permute(x, [2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 4; k++) assert.equal(p.get(k, i, j), x.get(i, j, k));
    }
  }
  assert.deepEqual([...transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3])).data], [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(transpose(x, 0, -1).shape, [4, 3, 2]);
  // A matrix over several 32×32 blocks, ragged at both edges: every element where it belongs.
  const big = arange(70 * 45).reshape([70, 45]);
  const bigT = transpose(big);
  assert.deepEqual(bigT.shape, [45, 70]);
  for (let i = 0; i < 70; i++) {
    for (let j = 0; j < 45; j++) assert.equal(bigT.get(j, i), i * 45 + j);
  }
  assert.throws(() => permute(x, [0, 0, 1]), /repeated axis/);
  assert.deepEqual(squeeze(zeros([1, 2, 1])).shape, [2]);
  assert.deepEqual(unsqueeze(zeros([2, 3]), -1).shape, [2, 3, 1]);
  assert.throws(() => squeeze(zeros([2, 3]), 0), /dim 0 has size 2, not 1/);

  const c = concat([tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6], [2, 1])], 1);
  assert.deepEqual([...c.data], [1, 2, 5, 3, 4, 6]);
  const s = stack([tensor([1, 2]), tensor([3, 4])], 1);
  assert.deepEqual(s.shape, [2, 2]);
  assert.deepEqual([...s.data], [1, 3, 2, 4]);
  assert.throws(() => concat([zeros([2, 2]), zeros([3, 3])], 1), /does not match/);
});

Deno.test("i32 arithmetic wraps modulo 2^32 as numpy's int32, without f64 rounding", () => {
  const big = tensor([2147483647], [1], "i32");
  assert.deepEqual([...mul(big, big).data], [1]); // (2^31 - 1)^2 = 2^62 - 2^32 + 1
  assert.deepEqual([...square(big).data], [1]);
  assert.deepEqual([...pow(tensor([3, 2], [2], "i32"), 40).data], [689956897, 0]); // numpy's
  assert.deepEqual([...prod(tensor([65536, 65536, 3], [3], "i32")).data], [0]);
  assert.deepEqual([...sum(tensor([2147483647, 1], [2], "i32")).data], [-2147483648]);
  assert.throws(() => pow(big, -1), /pow: integers to negative integer powers are not allowed/);
});

Deno.test("edge cases: empty axes, NaN, non-integer indices and sizes", () => {
  assert.deepEqual([...logSumExp(zeros([3, 0])).data], [-Infinity, -Infinity, -Infinity]);
  assert.deepEqual(softmax(zeros([2, 0])).shape, [2, 0]);
  assert.throws(() => max(zeros([2, 0]), 1), /max: cannot reduce over an empty axis/);
  assert.throws(() => argmax(zeros([0])), /argmax: cannot reduce over an empty axis/);
  assert.deepEqual(max(zeros([0, 2]), 1).shape, [0]); // nothing to reduce: an empty result
  assert.ok(Number.isNaN(relu(tensor([NaN])).get(0)));
  assert.throws(() => tensor([1, 2]).get(0.5), /index 0.5 is not an integer/);
  assert.throws(
    () => slice(tensor([10, 20, 30]), [[0.5, 2]]),
    /bound 0.5 on dim 0 must be an integer/,
  );
  assert.throws(() => zeros([2, -1]), {
    message: "invalid shape [2,-1]: sizes must be non-negative integers",
  });
  assert.throws(() => transpose(zeros([2, 3]), 0), /give both dims to swap, or neither/);
});

Deno.test("arange: i32 for integer arguments, f64 otherwise, as numpy", () => {
  const quarter = arange(0, 1, 0.25);
  assert.equal(quarter.dtype, "f64");
  assert.deepEqual([...quarter.data], [0, 0.25, 0.5, 0.75]);
  assert.deepEqual([...arange(0.5, 3).data], [0.5, 1.5, 2.5]);
  assert.deepEqual([...arange(5, 0, -2).data], [5, 3, 1]);
  assert.equal(arange(3, undefined, 1, "f32").dtype, "f32");
  assert.throws(() => arange(0, 1, 0.5, "i32"), /arange: i32 needs integer start, stop and step/);
});
