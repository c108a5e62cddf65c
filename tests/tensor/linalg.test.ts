// SVD, eigh and PCA against numpy (fixtures/make_linalg.py) and hand-worked cases.
import * as assert from "node:assert/strict";
import {
  div,
  eigh,
  eye,
  matmul,
  mul,
  pca,
  slice,
  svd,
  type Tensor,
  tensor,
  transpose,
  unsqueeze,
  zeros,
} from "../../engine/tensor/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

interface LinalgFixture {
  svd: { name: string; a: FixtureArray; u: FixtureArray; s: FixtureArray; vh: FixtureArray }[];
  eigh: { name: string; a: FixtureArray; values: FixtureArray; vectors: FixtureArray }[];
  svd_f32: { a: FixtureArray; s: FixtureArray };
  pca: {
    x: FixtureArray;
    k: number;
    mean: FixtureArray;
    components: FixtureArray;
    explained_variance: FixtureArray;
    explained_variance_ratio: FixtureArray;
    projected: FixtureArray;
  };
}

const fixture = await loadFixture<LinalgFixture>("linalg");
const TOL = 1e-10;

/** `U · diag(S) · Vh`. */
function reconstruct(U: Tensor, S: Tensor, Vh: Tensor): Tensor {
  return matmul(mul(U, unsqueeze(S, -2)), Vh);
}

/**
 * Compares vectors (rows) with numpy's at `TOL`, grouped by value: a simple value's vector is
 * unique up to sign, so it is compared after matching signs; a repeated value's vectors are any
 * basis of one subspace, so the projectors onto it are compared. Vectors of zero singular values
 * on the long side span an arbitrary part of the complement, so `skipZero` leaves them to the
 * orthonormality checks.
 */
function assertSameVectors(
  actual: Tensor,
  expected: Tensor,
  values: Float64Array,
  options: { what: string; skipZero?: boolean },
): void {
  const scale = Math.max(...values.map(Math.abs));
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-8 * scale;
  let start = 0;
  while (start < values.length) {
    let end = start + 1;
    while (end < values.length && same(values[end]!, values[start]!)) end++;
    const what = `${options.what} ${start}..${end - 1}`;
    const a = slice(actual, [[start, end]]);
    const e = slice(expected, [[start, end]]);
    // Singular values are descending, so the zero group is the last.
    if (options.skipZero && same(values[start]!, 0)) break;
    if (end - start === 1) {
      const sign = Math.sign(matmul(a, transpose(e)).data[0]!);
      assertClose(mul(a, sign), e, TOL, what);
    } else {
      assertClose(matmul(transpose(a), a), matmul(transpose(e), e), TOL, `${what} projector`);
    }
    start = end;
  }
}

/** Asserts the largest-magnitude entry of each row is positive (first of near-ties). */
function assertSignConvention(rows: Tensor, what: string): void {
  const [r, n] = rows.shape as [number, number];
  for (let i = 0; i < r; i++) {
    const row = Array.from(rows.data.subarray(i * n, (i + 1) * n));
    const big = Math.max(...row.map(Math.abs));
    const first = row.find((v) => Math.abs(v) >= big * (1 - 1e-9))!;
    assert.ok(first > 0, `${what} row ${i}: largest entry ${first} is not positive`);
  }
}

Deno.test("svd matches numpy on tall, wide, square, rank-deficient, repeated and graded matrices", () => {
  for (const c of fixture.svd) {
    const A = fromFixture(c.a);
    const [m, n] = A.shape as [number, number];
    const r = Math.min(m, n);
    const { U, S, Vh } = svd(A);
    assert.deepEqual([U.shape, S.shape, Vh.shape], [[m, r], [r], [r, n]], c.name);
    assert.equal(U.dtype, "f64");
    assertClose(S, fromFixture(c.s), TOL, `${c.name} S`);
    assert.ok(S.data.every((s, i) => i === 0 || s <= S.data[i - 1]!), `${c.name} S descending`);
    assertClose(reconstruct(U, S, Vh), A, TOL, `${c.name} U S Vh`);
    assertClose(matmul(transpose(U), U), eye(r), TOL, `${c.name} UᵀU`);
    assertClose(matmul(Vh, transpose(Vh)), eye(r), TOL, `${c.name} Vh Vhᵀ`);
    const values = S.data as Float64Array;
    assertSameVectors(transpose(U), transpose(fromFixture(c.u)), values, {
      what: `${c.name} U`,
      skipZero: m > n,
    });
    assertSameVectors(Vh, fromFixture(c.vh), values, { what: `${c.name} Vh`, skipZero: n > m });
    assertSignConvention(Vh, `${c.name} Vh`);
  }
});

Deno.test("svd of diag(3, -2) moves the sign into U", () => {
  const { U, S, Vh } = svd(tensor([3, 0, 0, -2], [2, 2]));
  assert.deepEqual(Array.from(S.data), [3, 2]);
  assert.deepEqual(Array.from(U.data), [1, 0, 0, -1]);
  assert.deepEqual(Array.from(Vh.data), [1, 0, 0, 1]);
});

Deno.test("svd of a rotation times a scaling times a rotation recovers all three", () => {
  // A = R(θ) · diag(5, 2) · R(φ)ᵀ: U = R(θ), S = [5, 2], Vh = R(φ)ᵀ, whose rows' largest entries
  // (cos φ) are positive already.
  const rot = (a: number) => tensor([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)], [2, 2]);
  const [theta, phi] = [Math.PI / 6, Math.PI / 9];
  const A = matmul(matmul(rot(theta), tensor([5, 0, 0, 2], [2, 2])), transpose(rot(phi)));
  const { U, S, Vh } = svd(A);
  assertClose(S, [5, 2], 1e-14, "S");
  assertClose(U, rot(theta), 1e-14, "U");
  assertClose(Vh, transpose(rot(phi)), 1e-14, "Vh");
});

Deno.test("svd of a zero matrix still gives orthonormal U and Vh", () => {
  for (const shape of [[3, 2], [2, 4], [3, 3]]) {
    const [m, n] = shape as [number, number];
    const r = Math.min(m, n);
    const { U, S, Vh } = svd(zeros(shape));
    assert.deepEqual(Array.from(S.data), new Array(r).fill(0), `S of zeros [${shape}]`);
    assertClose(matmul(transpose(U), U), eye(r), 1e-15, `UᵀU of zeros [${shape}]`);
    assertClose(matmul(Vh, transpose(Vh)), eye(r), 1e-15, `Vh Vhᵀ of zeros [${shape}]`);
  }
});

Deno.test("svd computes in f64 from f32 and i32 input", () => {
  // numpy's f64 SVD of the same f32 values. Its condition number is 1e6, so f64 leaves ~1e-11
  // relative error in the smallest value; f32 arithmetic would leave ~1e-7 in every one.
  const fromF32 = svd(fromFixture(fixture.svd_f32.a).astype("f32"));
  assert.equal(fromF32.S.dtype, "f64");
  const expected = fromFixture(fixture.svd_f32.s);
  assertClose(div(fromF32.S, expected), [1, 1, 1], 1e-9, "f32 input S / numpy f64 S");
  const ints = svd(tensor([2, 0, 1, 3, -1, 4], [3, 2], "i32"));
  assert.equal(ints.U.dtype, "f64");
  assertClose(reconstruct(ints.U, ints.S, ints.Vh), [2, 0, 1, 3, -1, 4], 1e-14, "i32 input");
  assert.throws(
    () => svd(tensor([1, 2, 3])),
    /^Error: svd: expected a matrix \[\.\.\., m, n\], got shape \[3\]$/,
  );
});

Deno.test("svd scales the matrix, so huge and tiny magnitudes give numpy's values", () => {
  const c = fixture.svd[0]!;
  const expected = fromFixture(c.s);
  // Unscaled, entries near 1e154 overflow when squared (S was NaN) and near 1e-165 underflow
  // (S was 0); numpy's values at those scales are the unit ones times the scale.
  for (const scale of [1e154, 1e300, 1e-165, 1e-300]) {
    const A = mul(fromFixture(c.a), scale);
    const { U, S, Vh } = svd(A);
    assertClose(div(S, scale), expected, TOL, `S at scale ${scale}`);
    assertClose(div(reconstruct(U, S, Vh), scale), div(A, scale), TOL, `U S Vh at scale ${scale}`);
  }
  // A power-of-two scale divides exactly, so the values are the unit ones' bits times it.
  const unit = svd(fromFixture(c.a)).S;
  assertClose(svd(mul(fromFixture(c.a), 2 ** 600)).S, mul(unit, 2 ** 600), 0, "S at 2^600");
});

Deno.test("svd, eigh and pca name the first non-finite entry", () => {
  assert.throws(
    () => svd(tensor([1, NaN, 2, Infinity], [2, 2])),
    /^Error: svd: matrix has a non-finite entry NaN at \[0, 1\]$/,
  );
  const batch = zeros([2, 3, 2]).toArray();
  batch[9] = -Infinity;
  assert.throws(
    () => svd(tensor(batch, [2, 3, 2])),
    /^Error: svd: matrix has a non-finite entry -Infinity at \[1, 1, 1\]$/,
  );
  assert.throws(
    () => eigh(tensor([1, NaN, NaN, 1], [2, 2])),
    /^Error: eigh: matrix has a non-finite entry NaN at \[0, 1\]$/,
  );
  assert.throws(
    () => pca(tensor([1, 2, 3, 4, 5, Infinity], [3, 2]), 1),
    /^Error: pca: matrix has a non-finite entry Infinity at \[2, 1\]$/,
  );
});

Deno.test("svd batches over leading dims, each matrix as on its own", () => {
  const A = fromFixture(fixture.svd[0]!.a);
  const stacked = tensor([...A.data, ...A.data.map((v) => -2 * v)], [2, 1, 7, 4]);
  const batch = svd(stacked);
  assert.deepEqual([batch.U.shape, batch.S.shape, batch.Vh.shape], [[2, 1, 7, 4], [2, 1, 4], [
    2,
    1,
    4,
    4,
  ]]);
  const single = svd(A);
  assertClose(slice(batch.U, "0, 0"), single.U, 0, "batch 0 U");
  assertClose(slice(batch.S, "0, 0"), single.S, 0, "batch 0 S");
  assertClose(slice(batch.Vh, "0, 0"), single.Vh, 0, "batch 0 Vh");
  assertClose(slice(batch.S, "1, 0"), mul(single.S, 2), 1e-14, "batch 1 S");
  assertClose(reconstruct(batch.U, batch.S, batch.Vh), stacked, 1e-13, "batched U S Vh");
});

Deno.test("eigh matches numpy on symmetric, rank-deficient, repeated and diagonal matrices", () => {
  for (const c of fixture.eigh) {
    const A = fromFixture(c.a);
    const n = A.shape[0]!;
    const { values, vectors } = eigh(A);
    assertClose(values, fromFixture(c.values), TOL, `${c.name} values`);
    assertClose(matmul(transpose(vectors), vectors), eye(n), TOL, `${c.name} VᵀV`);
    assertClose(reconstruct(vectors, values, transpose(vectors)), A, TOL, `${c.name} V Λ Vᵀ`);
    assertSameVectors(
      transpose(vectors),
      transpose(fromFixture(c.vectors)),
      values.data as Float64Array,
      {
        what: `${c.name} vectors`,
      },
    );
    assertSignConvention(transpose(vectors), `${c.name} vectors`);
  }
});

Deno.test("eigh of [[2, 1], [1, 2]] is 1 and 3 with (1, -1)/√2 and (1, 1)/√2", () => {
  const { values, vectors } = eigh(tensor([2, 1, 1, 2], [2, 2]));
  assertClose(values, [1, 3], 1e-15, "values");
  const h = Math.SQRT1_2;
  // Columns; in (1, -1)/√2 the entries tie in magnitude, so the first is made positive.
  assertClose(vectors, tensor([h, h, -h, h], [2, 2]), 1e-15, "vectors");
});

Deno.test("eigh scales the matrix, so entries near the largest double still work", () => {
  // [[1, 1], [1, -1]] has eigenvalues ±√2 with vectors (−sin π/8, cos π/8) and
  // (cos π/8, sin π/8), the first's sign set by its larger entry; unscaled, a_qq - a_pp overflowed to -Infinity at this
  // scale and the rotation came out NaN.
  const big = 1e308;
  const { values, vectors } = eigh(tensor([big, big, big, -big], [2, 2]));
  assertClose(div(values, big), [-Math.SQRT2, Math.SQRT2], 1e-15, "values / 1e308");
  const [c, s] = [Math.cos(Math.PI / 8), Math.sin(Math.PI / 8)];
  assertClose(vectors, tensor([-s, c, c, s], [2, 2]), 1e-15, "vectors");
});

Deno.test("eigh rejects non-square and non-symmetric matrices", () => {
  assert.throws(
    () => eigh(zeros([2, 3])),
    /^Error: eigh: expected a square \[n, n\] matrix, got shape \[2,3\]$/,
  );
  assert.throws(
    () => eigh(zeros([4])),
    /^Error: eigh: expected a square \[n, n\] matrix, got shape \[4\]$/,
  );
  assert.throws(
    () => eigh(tensor([1, 2, 0, 4], [2, 2])),
    /^Error: eigh: matrix is not symmetric: \|a\[0,1\] - a\[1,0\]\| = 2 exceeds 1e-10 × max \|a\| = 4$/,
  );
  // Asymmetry at rounding level is accepted and averaged away.
  const { values } = eigh(tensor([2, 1 + 1e-14, 1, 2], [2, 2]));
  assertClose(values, [1, 3], 1e-13, "nearly symmetric");
});

Deno.test("pca matches a plain numpy PCA up to the sign of each component", () => {
  const c = fixture.pca;
  const out = pca(fromFixture(c.x), c.k);
  assertClose(out.mean, fromFixture(c.mean), TOL, "mean");
  assertClose(out.explainedVariance, fromFixture(c.explained_variance), 1e-9, "variance");
  assertClose(out.explainedVarianceRatio, fromFixture(c.explained_variance_ratio), TOL, "ratio");
  const expected = fromFixture(c.components);
  // One sign per component, applied to its axis and to its column of the projected data.
  const signs = tensor(
    Array.from(
      { length: c.k },
      (_, i) => Math.sign(matmul(slice(out.components, `${i}`), slice(expected, `${i}`)).data[0]!),
    ),
    [c.k, 1],
  );
  assertClose(mul(out.components, signs), expected, TOL, "components");
  assertClose(mul(out.projected, transpose(signs)), fromFixture(c.projected), 1e-9, "projected");
  assertSignConvention(out.components, "components");
  assert.deepEqual([out.components.shape, out.projected.shape], [[3, 6], [20, 3]]);
});

Deno.test("pca rejects k out of range and fewer than two rows", () => {
  const x = zeros([4, 3]);
  for (const k of [0, 4, 1.5]) {
    assert.throws(
      () => pca(x, k),
      new RegExp(`^Error: pca: k = ${k} is out of range 1\\.\\.3 for a \\[4, 3\\] matrix$`),
    );
  }
  assert.throws(
    () => pca(zeros([1, 3]), 1),
    /^Error: pca: expected a \[n, d\] matrix with n >= 2 rows, got shape \[1,3\]$/,
  );
});
