// pca's "gram" method (the eigendecomposition of the centred rows' d × d Gram matrix) against
// numpy's PCA (fixtures/make_linalg.py) and against the SVD path on a random 2000 × 64 matrix.
import * as assert from "node:assert/strict";
import { pca, Rng, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

interface PcaFixture {
  pca: {
    x: FixtureArray;
    k: number;
    components: FixtureArray;
    explained_variance_ratio: FixtureArray;
    projected: FixtureArray;
  };
}

const fixture = await loadFixture<PcaFixture>("linalg");

/** Row `i` of a `[k, d]` tensor. */
function row(t: Tensor, i: number): Float64Array {
  const d = t.shape[1]!;
  return t.data.subarray(i * d, (i + 1) * d) as Float64Array;
}

/** The cosine of two vectors. */
function cosine(a: Float64Array, b: Float64Array): number {
  let [ab, aa, bb] = [0, 0, 0];
  a.forEach((x, i) => {
    ab += x * b[i]!;
    aa += x * x;
    bb += b[i]! * b[i]!;
  });
  return ab / Math.sqrt(aa * bb);
}

Deno.test("pca gram: numpy's PCA, up to each component's sign", () => {
  const c = fixture.pca;
  const out = pca(fromFixture(c.x), c.k, { method: "gram" });
  assertClose(out.explainedVarianceRatio, fromFixture(c.explained_variance_ratio), 1e-10, "ratio");
  const expected = fromFixture(c.components);
  for (let i = 0; i < c.k; i++) {
    const cos = cosine(row(out.components, i), row(expected, i));
    assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-10, `component ${i}: |cos| = ${Math.abs(cos)}`);
  }
});

Deno.test("pca gram: the SVD path's result on a random 2000 × 64 matrix, signs included", () => {
  const [n, d, k] = [2000, 64, 10];
  const rng = new Rng(2026);
  // Offset columns of different spreads, so centring matters and the variances differ.
  const x = new Tensor(
    Float64Array.from({ length: n * d }, (_, i) => (1 + (i % d) / 16) * rng.normal() + (i % 7)),
    [n, d],
  );
  const svd = pca(x, k);
  const gram = pca(x, k, { method: "gram" });
  assertClose(gram.explainedVarianceRatio, svd.explainedVarianceRatio, 1e-8, "ratio");
  assertClose(gram.mean, svd.mean, 1e-12, "mean");
  for (let i = 0; i < k; i++) {
    // cos ≈ +1, not -1: the same sign convention as the SVD path.
    const cos = cosine(row(gram.components, i), row(svd.components, i));
    assert.ok(1 - cos < 1e-6, `component ${i}: cos = ${cos}`);
  }
  const scale = Math.sqrt(svd.explainedVariance.data[0]!);
  assertClose(gram.projected, svd.projected, 1e-6 * scale, "projected");
  assert.deepEqual([gram.components.shape, gram.projected.shape], [[k, d], [n, k]]);
});
