// `mean` and `resample` narrowed to a block of rows stay inside it, so the variants of one input
// that share a batch (a patching sweep's) never see each other's rows: on the CPU against a mean
// summed by hand in float64 from a clean cache and against the seeded permutation, the other block
// untouched bit for bit; on the GPU against the CPU, with blocks that start on a bindable offset
// (summed in place) and off one (summed from a copy), two blocks of one hook in one call.
import * as assert from "node:assert/strict";
import { cpuRunner, gpuRunner, hookPoints, type Intervention } from "../../engine/hooks/mod.ts";
import { permutation, Rng, slice, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { expectClose, gpuTest } from "../gpu/gpu_helpers.ts";
import { assertSame, randomTokens, randomWeights, TINY } from "./hooks_helpers.ts";

const B = 6;
const BLOCK_1: [number, number] = [3, 6]; // block 0 is rows [0, 3)

/** A runner, tokens whose two blocks differ, and the clean cache of `names`. */
async function twoBlocks(seed: number, names: string[]) {
  const rng = new Rng(seed);
  const runner = cpuRunner(TINY, randomWeights(TINY, rng));
  const tokens = randomTokens(TINY, B, rng);
  const clean = await runner.runWithCache(tokens, B, { names });
  return { runner, tokens, clean };
}

/** Asserts rows `[0, end)` of each tensor pair are the same bit for bit. */
function untouched(pairs: [Tensor, Tensor][], end: number, what: string): void {
  for (const [got, was] of pairs) assertSame(slice(got, `:${end}`), slice(was, `:${end}`), what);
}

Deno.test("row blocks (cpu): mean over block 1 is block 1's own mean; block 0 untouched", async () => {
  const name = "blocks.0.attn.hook_z"; // [B, T, H, E]
  const { runner, tokens, clean } = await twoBlocks(31, [name]);
  const { n_ctx: T, n_heads: H, d_head: E } = TINY;
  const z = clean.cache.get(name)!.data;
  const at = (r: number, t: number, h: number, e: number) => ((r * T + t) * H + h) * E + e;
  // By hand: block 1's rows summed in float64 and divided; and the whole batch's, which differs.
  const [r0, r1] = BLOCK_1;
  const own = new Float64Array(T * E);
  const all = new Float64Array(T * E);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) {
      for (let r = 0; r < B; r++) {
        const v = z[at(r, t, 1, e)]!;
        all[t * E + e]! += v / B;
        if (r >= r0 && r < r1) own[t * E + e]! += v / (r1 - r0);
      }
    }
  }
  const gap = Math.max(...own.map((v, i) => Math.abs(v - all[i]!)));
  assert.ok(gap > 1e-2, `block 1's mean differs from the batch's (by ${gap})`);

  const iv: Intervention = { kind: "mean", name, rows: BLOCK_1, head: 1 };
  const got = await runner.runWithHooks(tokens, B, [iv], { names: [name] });
  const edited = got.cache.get(name)!;
  const want = Float64Array.from(z);
  for (let r = r0; r < r1; r++) {
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) want[at(r, t, 1, e)] = own[t * E + e]!;
    }
  }
  assertClose(edited, new Tensor(want, edited.shape), 1e-12, "hook_z after the mean");
  untouched([[edited, clean.cache.get(name)!], [got.logits, clean.logits]], r0, "block 0");
});

Deno.test("row blocks (cpu): resample of block 1 permutes its rows among themselves", async () => {
  const name = "blocks.0.hook_resid_post"; // without LayerNorm, logits are a function of each row
  const { runner, tokens, clean } = await twoBlocks(32, [name]);
  const [r0, r1] = BLOCK_1;
  const seed = 2;
  const perm = permutation(r1 - r0, { seed }).data;
  assert.ok(perm.every((p, i) => p !== i), `every row moves: [${perm}]`);
  const iv: Intervention = { kind: "resample", name, rows: BLOCK_1, seed };
  const got = await runner.runWithHooks(tokens, B, [iv], { names: [name] });
  const [edited, was] = [got.cache.get(name)!, clean.cache.get(name)!];
  for (let i = 0; i < r1 - r0; i++) {
    const from = r0 + perm[i]!;
    const what = `row ${r0 + i} takes row ${from}`;
    assertSame(slice(edited, `${r0 + i}`), slice(was, `${from}`), what);
    assertClose(slice(got.logits, `${r0 + i}`), slice(clean.logits, `${from}`), 1e-12, what);
  }
  untouched([[edited, was], [got.logits, clean.logits]], r0, "block 0");
});

/**
 * The edits of the GPU comparison, on a batch of 24 padded to 32. A row of hook_resid_pre is
 * T·D = 36 floats (144 bytes), so row 16 starts at 2304 = 9·256 bytes (bindable: summed in place)
 * and row 3 at 432 (summed from a copy); a row of hook_z is 45 floats, row 3 at 540 bytes.
 */
const GPU_EDITS: Intervention[][] = [
  [
    { kind: "mean", name: "blocks.0.hook_resid_pre", rows: [16, 24] },
    { kind: "mean", name: "blocks.0.hook_resid_pre", rows: [3, 16], pos: 1 },
  ],
  [{ kind: "mean", name: "blocks.0.attn.hook_z", rows: [3, 9], head: 2 }],
  [{ kind: "mean", name: "blocks.0.hook_resid_post", rows: [0, 7] }],
  [{ kind: "resample", name: "blocks.0.attn.hook_z", rows: [3, 9], seed: 4 }],
  [{ kind: "resample", name: "blocks.0.hook_resid_post", rows: [16, 24], seed: 2, pos: 2 }],
];

gpuTest(
  "row blocks: gpu runner equals cpu runner for mean and resample of a block",
  async (gpu) => {
    const rng = new Rng(33);
    const weights = randomWeights(TINY, rng);
    const cpu = cpuRunner(TINY, weights);
    const runner = await gpuRunner(gpu, TINY, weights, { maxBatch: 32 });
    const batch = 24;
    const tokens = randomTokens(TINY, batch, rng);
    const names = hookPoints(TINY, batch, TINY.n_ctx).filter((p) => p.gpu).map((p) => p.name);
    for (const ivs of GPU_EDITS) {
      const want = await cpu.runWithHooks(tokens, batch, ivs, { names });
      const got = await runner.runWithHooks(tokens, batch, ivs, { names });
      let largest = 1;
      for (const t of [want.logits, ...want.cache.values()]) {
        for (const x of t.data) largest = Math.max(largest, Math.abs(x));
      }
      const tol = 3e-6 * largest; // f32 against float64, a few ulps of the largest value
      const what = ivs.map((iv) => `${iv.kind} ${iv.name} [${iv.rows}]`).join(", ");
      expectClose(got.logits, want.logits, tol, `${what}: logits`);
      for (const n of names) {
        expectClose(
          got.cache.get(n)!,
          want.cache.get(n)!,
          tol,
          `${what}: ${n}`,
        );
      }
    }
    runner.release();
  },
);
