// matmul.wgsl against the tensor library's float64 matmul: every transpose, batches, broadcast,
// strided views of heads, split-K, every tile configuration, on shapes off every tile size.
import * as assert from "node:assert/strict";
import {
  matmul as cpuMatmul,
  rearrange,
  Rng,
  slice,
  type Tensor,
} from "../../engine/tensor/mod.ts";
import { chooseTiles, matmul, type MatmulTiles } from "../../kernels/matmul.ts";
import type { Gpu } from "../../engine/gpu/mod.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

// f32 products of unit normals summed over K in f32: the error grows like sqrt(K)·2⁻²⁴·|a||b|.
function tolerance(k: number): number {
  return 2e-6 * Math.sqrt(k) * 4;
}

const TILES: MatmulTiles[] = [
  { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 },
  { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
  { BM: 64, BN: 32, BK: 8, TM: 8, TN: 4 },
];

const t2 = (x: Tensor) => rearrange(x, "... a b -> ... b a");

gpuTest("matmul: all four transposes on ragged shapes, every tile configuration", async (gpu) => {
  const rng = new Rng(21);
  const shapes = [[1, 1, 1], [3, 5, 7], [17, 33, 9], [65, 4, 130], [33, 129, 67]];
  for (const tiles of TILES) {
    for (const [m, k, n] of shapes as [number, number, number][]) {
      const a = randomTensor([m, k], rng);
      const b = randomTensor([k, n], rng);
      const expected = cpuMatmul(a, b);
      for (
        const [transA, transB] of [[false, false], [true, false], [false, true], [
          true,
          true,
        ]] as const
      ) {
        const ga = gpu.upload(transA ? t2(a) : a);
        const gb = gpu.upload(transB ? t2(b) : b);
        const gc = gpu.empty([m, n]);
        gpu.run(await matmul(gpu, ga, gb, gc, { transA, transB, tiles }));
        const [got] = await gpu.read([gc]);
        expectClose(
          got!,
          expected,
          tolerance(k),
          `${m}x${k}x${n} tA=${transA} tB=${transB} ${tiles.BM}x${tiles.BN}`,
        );
        for (const t of [ga, gb, gc]) t.release();
      }
    }
  }
});

// matmul_direct.wgsl (software adapters): a vec4-aligned A, one transpose at most; any M and N.
gpuTest("matmul: the direct kernel on every layout it takes, held to float64", async (gpu) => {
  const rng = new Rng(26);
  // [m, k, n]: one block; K of 4 (the least it takes untransposed); K odd (transposed A only);
  // ragged last blocks of rows and columns, with B and C unaligned where N is odd (tinygpt's 60
  // columns, GPT-2's 50,257).
  const shapes = [
    [8, 4, 8],
    [16, 12, 24],
    [64, 36, 40],
    [24, 1, 16],
    [40, 7, 8],
    [12, 8, 60],
    [
      13,
      4,
      21,
    ],
    [5, 16, 3],
    [20, 7, 61],
  ];
  for (const [m, k, n] of shapes as [number, number, number][]) {
    const a = randomTensor([m, k], rng);
    const b = randomTensor([k, n], rng);
    const expected = cpuMatmul(a, b);
    for (const [transA, transB] of [[false, false], [true, false], [false, true]] as const) {
      if (!transA && k % 4 !== 0) continue; // vec4s along K: refused, checked below
      if (transA && m % 4 !== 0) continue; // A stored [k, m]: its rows not vec4-aligned
      const ga = gpu.upload(transA ? t2(a) : a);
      const gb = gpu.upload(transB ? t2(b) : b);
      const gc = gpu.empty([m, n]);
      gpu.run(await matmul(gpu, ga, gb, gc, { transA, transB, tiles: "direct" }));
      const [got] = await gpu.read([gc]);
      expectClose(got!, expected, tolerance(k), `direct ${m}x${k}x${n} tA=${transA} tB=${transB}`);
      for (const t of [ga, gb, gc]) t.release();
    }
  }
});

// GPT-2's unembedding in small: B's rows 4k+1 floats long from an odd offset, C's the same, and
// 11 of A's 12 rows; the floats around C's block (its row gaps, before and after) must keep what
// they held, and the NaNs past B's columns must not reach it.
gpuTest("matmul: the direct kernel with B and C unaligned writes only C's block", async (gpu) => {
  const rng = new Rng(32);
  const [m, k, n, ldB, ldC] = [11, 12, 37, 41, 45];
  const a = randomTensor([m + 1, k], rng);
  const b = randomTensor([k, n], rng);
  const expected = cpuMatmul(a, b).data; // [m + 1, n]: rows 0..m-1 are C's
  // [rows + 1, ld]: the block from float 1, then the rest of the last row and one more.
  const big = (rows: number, ld: number) => new Float32Array((rows + 1) * ld);
  const storedB = big(k, ldB).fill(Number.NaN); // a NaN read into C would show
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) storedB[1 + i * ldB + j] = b.data[i * n + j]!;
  }
  for (const transA of [false, true]) {
    const ga = gpu.upload(transA ? t2(a) : a);
    const gb = gpu.upload(storedB, [k + 1, ldB]);
    const gc = gpu.upload(big(m, ldC).fill(7), [m + 1, ldC]);
    const A = { tensor: ga, ld: transA ? m + 1 : k }; // stored [k, m + 1] when transposed
    const ds = await matmul(gpu, A, { tensor: gb, offset: 1, ld: ldB }, {
      tensor: gc,
      offset: 1,
      ld: ldC,
    }, { m, n, k, transA });
    if (gpu.adapter.isFallback) assert.equal(ds[0]!.label, "matmul_direct.wgsl:matmul_direct");
    gpu.run(ds);
    const [got] = await gpu.read([gc]);
    let diff = 0;
    let outside = 0;
    got!.data.forEach((x, f) => {
      const [i, j] = [Math.floor((f - 1) / ldC), (f - 1) % ldC];
      if (f >= 1 && i < m && j < n) diff = Math.max(diff, Math.abs(x - expected[i * n + j]!));
      else if (x !== 7) outside++;
    });
    console.log(`  unaligned B, C (transA=${transA}): max |diff| ${diff.toExponential(2)}`);
    assert.ok(diff <= tolerance(k), `transA=${transA}: max |diff| ${diff}`);
    assert.equal(outside, 0, `transA=${transA}: floats outside C's block overwritten`);
    for (const t of [ga, gb, gc]) t.release();
  }
});

// The attention's per-head products (engine/model/gpu/attention.ts) by one kernel: q[:, h, :] =
// x·W[h]; dW[h] = xᵀ·dq[:, h, :]; dx[h] = dq[:, h, :]·W[h]ᵀ, with rows = batch·pos.
async function perHeadViews(
  gpu: Gpu,
  [rows, D, H, E]: [number, number, number, number],
  tiles: "direct" | "subgroup",
  seed: number,
): Promise<void> {
  const rng = new Rng(seed);
  const x = randomTensor([rows, D], rng);
  const W = randomTensor([H, D, E], rng); // W_Q [head, d_model, d_head]
  const dq = randomTensor([rows, H, E], rng);
  const [gx, gw, gdq] = [gpu.upload(x), gpu.upload(W), gpu.upload(dq)];
  const [q, dW, dxParts] = [gpu.empty([rows, H, E]), gpu.empty([H, D, E]), gpu.empty([H, rows, D])];
  const head = (t: typeof q) => ({ tensor: t, ld: H * E, batchStride: E });
  const x0 = { tensor: gx, batchStride: 0 };
  const dims = { m: rows, n: E, k: D, batch: H, tiles };
  gpu.run([
    ...await matmul(gpu, x0, gw, head(q), dims),
    ...await matmul(gpu, x0, head(gdq), dW, { ...dims, m: D, k: rows, transA: true }),
    ...await matmul(gpu, head(gdq), gw, dxParts, { ...dims, n: D, k: E, transB: true }),
  ]);
  const [gotQ, gotDW, gotDx] = await gpu.read([q, dW, dxParts]);
  const dqh = rearrange(dq, "r h e -> h r e");
  expectClose(gotQ!, rearrange(cpuMatmul(x, W), "h r e -> r h e"), tolerance(D), "q per head");
  expectClose(gotDW!, cpuMatmul(t2(x), dqh), tolerance(rows), "dW_Q[h] = xᵀ·dq[h]");
  expectClose(gotDx!, cpuMatmul(dqh, t2(W)), tolerance(E), "dx[h] = dq[h]·W[h]ᵀ");
  for (const t of [gx, gw, gdq, q, dW, dxParts]) t.release();
}

gpuTest("matmul: the direct kernel on the attention's per-head views", async (gpu) => {
  await perHeadViews(gpu, [48, 24, 3, 8], "direct", 27);
});

gpuTest(
  "matmul: the subgroup kernel on the attention's per-head views (32-column tiles)",
  async (gpu) => {
    // d_head 32 (tinygpt's): q in 128×32 tiles, dW in 64×32, dx in 128×64.
    const run = perHeadViews(gpu, [128, 64, 2, 32], "subgroup", 34);
    if (gpu.adapter.subgroupSize === 8) await run;
    else await assert.rejects(run, /subgroup kernel needs 8-lane subgroups/);
  },
);

gpuTest("matmul: the direct kernel is chosen only where it fits, on software only", async (gpu) => {
  const pick = (shape: Parameters<typeof chooseTiles>[1], isFallback = gpu.adapter.isFallback) =>
    chooseTiles({ device: gpu.device, adapter: { ...gpu.adapter, isFallback } }, shape).tiles;
  const fit = { m: 2048, n: 512, k: 128, batch: 1, alignedA: true };
  assert.equal(pick(fit, true), "direct", "tinygpt's x·W_in on a software adapter");
  assert.equal(pick({ ...fit, transA: true }, true), "direct", "xᵀ·dy");
  assert.equal(pick({ ...fit, transB: true }, true), "direct", "dy·Wᵀ");
  assert.notEqual(pick(fit, false), "direct", "never on a hardware GPU");
  assert.equal(pick({ ...fit, n: 60 }, true), "direct", "60 columns: a ragged last block");
  assert.equal(pick({ ...fit, m: 64, n: 50257 }, true), "direct", "GPT-2's unembedding");
  assert.notEqual(pick({ ...fit, k: 130 }, true), "direct", "K 130: not vec4s along K");
  assert.equal(pick({ ...fit, k: 130, transA: true }, true), "direct", "xᵀ·dy reads K by rows");
  assert.notEqual(pick({ ...fit, alignedA: false }, true), "direct", "a misaligned A");
  assert.notEqual(pick({ ...fit, transA: true, transB: true }, true), "direct", "both transposed");
  // What matmul resolves: rows 10 apart from an offset of 2 are not vec4-aligned.
  const [a, b, c] = [gpu.empty([8, 10]), gpu.empty([8, 8]), gpu.empty([8, 8])];
  const view = { tensor: a, offset: 2, ld: 10 };
  const dims = { m: 8, n: 8, k: 8 };
  assert.equal((await matmul(gpu, view, b, c, dims))[0]!.label, "matmul.wgsl:matmul", "misaligned");
  const plain = (await matmul(gpu, b, b, c))[0]!.label;
  assert.equal(
    plain,
    gpu.adapter.isFallback ? "matmul_direct.wgsl:matmul_direct" : "matmul.wgsl:matmul",
    "8×8×8",
  );
  await assert.rejects(
    matmul(gpu, view, b, c, { ...dims, tiles: "direct" }),
    /direct kernel needs .* vec4-aligned/,
  );
  for (const t of [a, b, c]) t.release();
});

// matmul_subgroup.wgsl (software adapters with 8-lane subgroups): whole tiles of 128 or 64 rows by
// 64 or 32 columns, aligned.
gpuTest("matmul: the subgroup kernel on every layout it takes, held to float64", async (gpu) => {
  const rng = new Rng(33);
  const lanes = gpu.adapter.subgroupSize === 8;
  // [m, k, n, batch, transA, transB], one per layout (each a pipeline that llvmpipe takes tens of
  // seconds to compile): several tiles each way; a weight gradient xᵀ·dy; a batch, with B
  // broadcast over it (tinygpt's per-head dx = dq[h]·W[h]ᵀ has the shape).
  const shapes: [number, number, number, number, boolean, boolean][] = [
    [128, 12, 192, 1, false, false],
    [192, 20, 128, 1, true, false],
    [64, 8, 128, 3, false, true],
    [256, 8, 96, 2, true, false], // 128-row tiles, 32 columns a tile (three), A transposed
  ];
  for (const [m, k, n, batch, transA, transB] of shapes) {
    const a = randomTensor([batch, m, k], rng);
    const b = randomTensor([k, n], rng);
    const ga = gpu.upload(transA ? t2(a) : a);
    const gb = gpu.upload(transB ? t2(b) : b);
    const gc = gpu.empty([batch, m, n]);
    const what = `subgroup ${batch}×${m}x${k}x${n} tA=${transA} tB=${transB}`;
    const run = matmul(gpu, ga, gb, gc, { transA, transB, tiles: "subgroup" });
    if (!lanes) {
      await assert.rejects(run, /subgroup kernel needs 8-lane subgroups/, what);
    } else {
      const ds = await run;
      assert.equal((await matmul(gpu, ga, gb, gc, { transA, transB }))[0]!.label, ds[0]!.label);
      gpu.run(ds);
      const [got] = await gpu.read([gc]);
      expectClose(got!, cpuMatmul(a, b), tolerance(k), what);
    }
    for (const t of [ga, gb, gc]) t.release();
  }
  const pick = (shape: Parameters<typeof chooseTiles>[1]) =>
    chooseTiles({ device: gpu.device, adapter: { ...gpu.adapter, isFallback: true } }, shape).tiles;
  const fit = { m: 2048, n: 512, k: 128, batch: 1, alignedA: true, alignedBC: true };
  assert.equal(pick(fit), lanes ? "subgroup" : "direct", "tinygpt's x·W_in");
  assert.equal(pick({ ...fit, n: 32 }), lanes ? "subgroup" : "direct", "32 columns: 64×32 tiles");
  assert.equal(pick({ ...fit, n: 96 }), lanes ? "subgroup" : "direct", "96: three 64×32 tiles");
  assert.equal(pick({ ...fit, n: 48 }), "direct", "48 columns: not whole tiles");
  assert.equal(pick({ ...fit, m: 2047 }), "direct", "2047 rows: not whole tiles");
  assert.equal(pick({ ...fit, alignedBC: false }), "direct", "an unaligned B or C");
  assert.equal(pick({ ...fit, transA: true }), lanes ? "subgroup" : "direct", "xᵀ·dy");
  assert.notEqual(pick({ ...fit, transA: true, transB: true }), "subgroup", "both transposed");
  assert.notEqual(pick({ ...fit, k: 130 }), "subgroup", "K 130: not vec4s along K");
});

gpuTest(
  "matmul: members get one model's kernel (rows, direct, tiled), each member's product its own",
  async (gpu) => {
    const rng = new Rng(31);
    const G = 3;
    // [m, k, n, transA, transB]: two rows (matmul_rows; a bias gradient's row of ones), 8-blocks
    // (matmul_direct on a software adapter): x·W, xᵀ·dy with an odd K, dy·Wᵀ; K = 7 (tiled).
    const cases = [
      [2, 12, 8, false, false],
      [1, 37, 20, false, false],
      [16, 12, 24, false, false],
      [8, 37, 16, true, false],
      [24, 8, 16, false, true],
      [9, 7, 5, false, false],
      [64, 4, 64, false, false], // one whole 64×64 tile: matmul_subgroup with 8-lane subgroups
    ] as const;
    const kernels = new Set<string>();
    for (const [m, k, n, transA, transB] of cases) {
      const a = randomTensor([G, m, k], rng); // each member's activations
      const w = randomTensor([G, k, n], rng); // each member's weight, k·n elements apart
      const [ga, gw] = [gpu.upload(transA ? t2(a) : a), gpu.upload(transB ? t2(w) : w)];
      const gc = gpu.empty([G, m, n]);
      const member = (t: typeof ga, size: number) => ({ tensor: t, memberStride: size });
      const sizes = { m, n, k, transA, transB };
      const group = await matmul(
        gpu,
        member(ga, m * k),
        member(gw, k * n),
        member(gc, m * n),
        { ...sizes, members: G },
      );
      // Each member alone, at its offset: the product a solo run computes.
      const solo = gpu.empty([G, m, n]);
      const alone = [];
      for (let g = 0; g < G; g++) {
        const at = (t: typeof ga, size: number) => ({ tensor: t, offset: g * size });
        alone.push(...await matmul(gpu, at(ga, m * k), at(gw, k * n), at(solo, m * n), sizes));
      }
      const what = `${m}x${k}x${n} tA=${transA} tB=${transB}`;
      assert.equal(group.length, 1, what);
      assert.equal(group[0]!.label, alone[0]!.label, `${what}: the kernel one member gets`);
      kernels.add(group[0]!.label);
      gpu.run([...group, ...alone]);
      const [got] = await gpu.read([gc]);
      expectClose(got!, cpuMatmul(a, w), tolerance(k), `${what}: member g's a[g]·w[g]`);
      assert.deepEqual(await bits(gpu, [gc]), await bits(gpu, [solo]), `${what}: bit for bit`);
      for (const t of [ga, gw, gc, solo]) t.release();
    }
    const software = gpu.adapter.isFallback;
    const direct = software ? ["matmul_direct.wgsl:matmul_direct"] : [];
    const lanes = software && gpu.adapter.subgroupSize === 8;
    const subgroup = lanes ? ["matmul_subgroup.wgsl:matmul_subgroup"] : [];
    const expected = ["matmul_rows.wgsl:matmul_rows", ...direct, ...subgroup, "matmul.wgsl:matmul"];
    assert.deepEqual([...kernels].sort(), expected.sort(), "every kernel served members");
    const fallback = { device: gpu.device, adapter: { ...gpu.adapter, isFallback: true } };
    const shape = { m: 2048, n: 512, k: 128, batch: 1, alignedA: true, alignedBC: true };
    const many = chooseTiles(fallback, { ...shape, members: 64 }).tiles;
    assert.equal(many, gpu.adapter.subgroupSize === 8 ? "subgroup" : "direct", "64 members");
  },
);

gpuTest("matmul: batched, and a 2D weight broadcast over the batch", async (gpu) => {
  const rng = new Rng(22);
  const a = randomTensor([3, 2, 13, 21], rng);
  const b = randomTensor([3, 2, 21, 6], rng);
  const w = randomTensor([21, 6], rng);
  const [ga, gb, gw] = [gpu.upload(a), gpu.upload(b), gpu.upload(w)];
  const [c1, c2] = [gpu.empty([3, 2, 13, 6]), gpu.empty([3, 2, 13, 6])];
  gpu.run([...await matmul(gpu, ga, gb, c1), ...await matmul(gpu, ga, gw, c2)]);
  const [got1, got2] = await gpu.read([c1, c2]);
  expectClose(got1!, cpuMatmul(a, b), tolerance(21), "batched");
  expectClose(got2!, cpuMatmul(a, w), tolerance(21), "broadcast weight");
  for (const t of [ga, gb, gw, c1, c2]) t.release();
});

gpuTest(
  "matmul: per-head q = x·W_Q[h] written straight into [batch, pos, head, d_head]",
  async (gpu) => {
    const rng = new Rng(23);
    const [rows, D, H, E] = [37, 24, 3, 10]; // rows = batch·pos
    const x = randomTensor([rows, D], rng);
    const W = randomTensor([H, D, E], rng); // TransformerLens' W_Q layout
    const gx = gpu.upload(x);
    const gw = gpu.upload(W);
    const q = gpu.empty([rows, H, E]);
    // Batch over heads: A broadcast, B the head's [D, E], C every H·E-th row from offset h·E.
    gpu.run(
      await matmul(gpu, { tensor: gx, batchStride: 0 }, gw, {
        tensor: q,
        ld: H * E,
        batchStride: E,
      }, {
        m: rows,
        n: E,
        k: D,
        batch: H,
      }),
    );
    const [got] = await gpu.read([q]);
    const expected = rearrange(cpuMatmul(x, W), "h r e -> r h e");
    expectClose(got!, expected, tolerance(D), "heads into [rows, head, d_head]");
    // And the last position's rows only (offset and stride), as the unembed of a scored position.
    const last = gpu.empty([5, E]);
    const T = 7; // 35 rows = 5 sequences of 7
    gpu.run(
      await matmul(gpu, { tensor: gx, offset: (T - 1) * D, ld: T * D }, gw, last, {
        m: 5,
        n: E,
        k: D,
      }),
    );
    const [lastGot] = await gpu.read([last]);
    const xs = slice(rearrange(slice(x, "0:35"), "(b t) d -> b t d", { t: T }), ":, -1");
    expectClose(
      lastGot!,
      cpuMatmul(xs, slice(W, "0")),
      tolerance(D),
      "strided rows with an offset",
    );
    for (const t of [gx, gw, q, last]) t.release();
  },
);

gpuTest(
  "matmul: one to four rows (matmul_rows.wgsl), every transpose, strided heads",
  async (gpu) => {
    const rng = new Rng(26);
    const shapes = [[1, 1, 1], [1, 37, 130], [2, 64, 257], [4, 21, 6], [3, 5, 9]];
    const transposes = [[false, false], [true, false], [false, true], [true, true]] as const;
    for (const [m, k, n] of shapes) {
      const a = randomTensor([m!, k!], rng);
      const b = randomTensor([k!, n!], rng);
      const expected = cpuMatmul(a, b);
      for (const [transA, transB] of transposes) {
        const ga = gpu.upload(transA ? t2(a) : a);
        const gb = gpu.upload(transB ? t2(b) : b);
        const gc = gpu.empty([m!, n!]);
        const ds = await matmul(gpu, ga, gb, gc, { transA, transB });
        assert.equal(ds.length, 1);
        gpu.run(ds);
        const [got] = await gpu.read([gc]);
        expectClose(got!, expected, tolerance(k!), `${m}x${k}x${n} tA=${transA} tB=${transB}`);
        for (const t of [ga, gb, gc]) t.release();
      }
    }
    // A decoding step's q = x·W_Q[h] for one row, into [1, head, d_head] (offset and strides).
    const [D, H, E] = [24, 3, 10];
    const x = randomTensor([1, D], rng);
    const W = randomTensor([H, D, E], rng);
    const [gx, gw, q] = [gpu.upload(x), gpu.upload(W), gpu.empty([1, H, E])];
    const c = { tensor: q, ld: H * E, batchStride: E };
    gpu.run(
      await matmul(gpu, { tensor: gx, batchStride: 0 }, gw, c, { m: 1, n: E, k: D, batch: H }),
    );
    const [got] = await gpu.read([q]);
    const expected = rearrange(cpuMatmul(x, W), "h r e -> r h e");
    expectClose(got!, expected, tolerance(D), "one row's heads into [1, head, d_head]");
    for (const t of [gx, gw, q]) t.release();
  },
);

gpuTest("matmul: split-K partials summed in a fixed order, bitwise repeatable", async (gpu) => {
  const rng = new Rng(24);
  const [m, k, n] = [19, 1001, 35];
  const a = randomTensor([k, m], rng); // a weight gradient's xᵀ·dy: A stored [K, M]
  const b = randomTensor([k, n], rng);
  const [ga, gb, gc, g1] = [gpu.upload(a), gpu.upload(b), gpu.empty([m, n]), gpu.empty([m, n])];
  const split = await matmul(gpu, ga, gb, gc, { transA: true, splitK: 7 });
  assert.equal(split.length, 2, "a product and one reduction launch");
  gpu.run(split);
  gpu.run(await matmul(gpu, ga, gb, g1, { transA: true, splitK: 1 }));
  const [got, one] = await gpu.read([gc, g1]);
  const expected = cpuMatmul(t2(a), b);
  expectClose(got!, expected, tolerance(k), "split-K 7");
  expectClose(one!, expected, tolerance(k), "no split");
  const first = await bits(gpu, [gc]);
  gpu.run(split);
  assert.deepEqual(await bits(gpu, [gc]), first, "the same bits on a second run");
  for (const t of [ga, gb, gc, g1]) t.release();
});

gpuTest("matmul: split-K over a batch, as per-head weight gradients xᵀ·dq[h]", async (gpu) => {
  const rng = new Rng(25);
  const [rows, D, H, E] = [523, 12, 3, 5];
  const x = randomTensor([rows, D], rng);
  const dq = randomTensor([rows, H, E], rng);
  const [gx, gdq, dW] = [gpu.upload(x), gpu.upload(dq), gpu.empty([H, D, E])];
  const ds = await matmul(
    gpu,
    { tensor: gx, batchStride: 0 },
    { tensor: gdq, ld: H * E, batchStride: E },
    dW,
    { m: D, n: E, k: rows, batch: H, transA: true, splitK: 4 },
  );
  assert.equal(ds.length, 2, "a split product and its reduction");
  gpu.run(ds);
  const [got] = await gpu.read([dW]);
  const expected = cpuMatmul(t2(x), rearrange(dq, "r h e -> h r e"));
  expectClose(got!, expected, tolerance(rows), "dW_Q[h] = xᵀ·dq[h], K split in 4");
  for (const t of [gx, gdq, dW]) t.release();
});

gpuTest("matmul: mismatched shapes and out-of-range views are refused", async (gpu) => {
  const a = gpu.empty([4, 5]);
  const b = gpu.empty([6, 3]);
  const c = gpu.empty([4, 3]);
  await assert.rejects(matmul(gpu, a, b, c), /b is \[6,3\], expected 5×3/);
  await assert.rejects(
    matmul(gpu, { tensor: a, offset: 2 }, b, c, { m: 4, n: 3, k: 5 }),
    /a is read up to element 22 of its 20/,
  );
  for (const t of [a, b, c]) t.release();
});
