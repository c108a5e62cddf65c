// The WebAssembly matmul kernel against the textbook loop: the same ordered f64 sums, so the
// results must be bitwise equal, whatever the shapes, offsets and chunking.
import * as assert from "node:assert/strict";
import { gemm, naiveGemm } from "../../engine/tensor/gemm_wasm.ts";
import { Rng } from "../../engine/tensor/mod.ts";

function random(rng: Rng, length: number): Float64Array {
  return Float64Array.from({ length }, () => rng.normal());
}

Deno.test("gemm: bitwise equal to the ordered loop on shapes off the 4×4 tile", () => {
  const rng = new Rng(7);
  const shapes = [[1, 1, 1], [1, 7, 1], [3, 5, 2], [4, 4, 4], [5, 3, 9], [13, 1, 6], [37, 19, 23]];
  for (let t = 0; t < 20; t++) shapes.push([1 + rng.int(14), 1 + rng.int(14), 1 + rng.int(14)]);
  for (const [m, k, n] of shapes as [number, number, number][]) {
    const A = random(rng, m * k);
    const B = random(rng, k * n);
    const C = new Float64Array(m * n);
    gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m, k, n });
    assert.deepEqual(C, naiveGemm(A, B, { m, k, n }), `${m}x${k}x${n}`);
  }
});

Deno.test("gemm: chunks of rows and columns give the same bits as one pass", () => {
  const rng = new Rng(8);
  const [m, k, n] = [29, 17, 41];
  const A = random(rng, m * k);
  const B = random(rng, k * n);
  const expected = naiveGemm(A, B, { m, k, n });
  // 4 KiB holds a few 4-row panels: the product runs as several row and column chunks.
  for (const chunkBytes of [4096, 16384, 1 << 26]) {
    const C = new Float64Array(m * n);
    gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m, k, n }, { chunkBytes });
    assert.deepEqual(C, expected, `chunkBytes ${chunkBytes}`);
  }
});

Deno.test("gemm: offsets, f32 output rounded once, and k = 0", () => {
  const rng = new Rng(9);
  const [m, k, n] = [6, 5, 7];
  const A = random(rng, 3 + m * k);
  const B = random(rng, 2 + k * n);
  const C = new Float32Array(4 + m * n).fill(-1);
  gemm({ A, offA: 3, B, offB: 2, C, offC: 4, m, k, n });
  const expected = naiveGemm(A.subarray(3), B.subarray(2), { m, k, n });
  assert.deepEqual(C.subarray(0, 4), new Float32Array(4).fill(-1), "before offC untouched");
  assert.deepEqual(C.subarray(4), Float32Array.from(expected, Math.fround));
  const Z = new Float64Array(6).fill(5);
  gemm({ A, offA: 0, B, offB: 0, C: Z, offC: 0, m: 2, k: 0, n: 3 });
  assert.deepEqual(Z, new Float64Array(6));
});

/** `[cols, rows]` of a row-major `[rows, cols]` matrix. */
function transpose(X: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = X[i * cols + j]!;
  }
  return out;
}

Deno.test("gemm: strided (transposed) operands, a row step for C, and accumulation, bitwise", () => {
  const rng = new Rng(10);
  for (const [m, k, n] of [[5, 3, 9], [13, 7, 6], [29, 17, 41]] as [number, number, number][]) {
    const At = random(rng, k * m); // A stored transposed, [k, m]
    const Bt = random(rng, n * k); // B stored transposed, [n, k]
    const ldc = n + 3;
    const C = new Float64Array(m * ldc).fill(0.5);
    const job = { A: At, offA: 0, B: Bt, offB: 0, C, offC: 0, m, k, n };
    gemm({ ...job, strideA: [1, m], strideB: [1, k], ldc, accumulate: true });
    const expected = naiveGemm(transpose(At, k, m), transpose(Bt, n, k), { m, k, n });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const want = j < n ? expected[i * n + j]! + 0.5 : 0.5; // the gap between rows untouched
        assert.equal(C[i * ldc + j], want, `${m}x${k}x${n} at ${i}, ${j}`);
      }
    }
  }
});

Deno.test("gemm f32: within k·2⁻²⁴·(|A|@|B|) of the float64 loop, off the 6×8 tile and chunked", () => {
  const rng = new Rng(11);
  const shapes = [[1, 1, 1], [6, 8, 8], [7, 3, 9], [13, 33, 17], [37, 128, 70]];
  for (const [m, k, n] of shapes as [number, number, number][]) {
    const A = Float32Array.from(random(rng, m * k));
    const B = Float32Array.from(random(rng, k * n));
    const exact = naiveGemm(A, B, { m, k, n });
    const bound = naiveGemm(A.map(Math.abs), B.map(Math.abs), { m, k, n });
    for (const chunkBytes of [2048, 1 << 26]) {
      const C = new Float32Array(m * n);
      gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m, k, n }, { precision: "f32", chunkBytes });
      let worst = 0;
      for (let i = 0; i < m * n; i++) {
        worst = Math.max(worst, Math.abs(C[i]! - exact[i]!) / (k * 2 ** -24 * bound[i]! + 1e-30));
      }
      assert.ok(worst <= 1, `${m}x${k}x${n} chunk ${chunkBytes}: error ${worst} of the bound`);
      assert.ok(C.some((c) => c !== 0), "some output written");
    }
  }
});
