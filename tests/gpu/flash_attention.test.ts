// flash_attention.wgsl against the float64 reference on shapes off the 32-row tile (T = 1, ragged
// last tiles, a few hundred positions), bitwise the same on a second run, and against today's
// attention.wgsl on the same inputs. On a software adapter (lavapipe) the cases with d_head a
// multiple of 4 run flash_attention_subgroup.wgsl where subgroups are 8 wide and
// flash_attention_direct.wgsl where they are not (the float64 test runs both, the second by hiding
// the subgroups), the others flash_attention.wgsl: all are held to the same references.
import * as assert from "node:assert/strict";
import { type Gpu, type GpuTensor, releaseDispatches } from "../../engine/gpu/mod.ts";
import {
  attentionBackward as refBackward,
  attentionForward as refForward,
  attentionLogsumexp,
} from "../../engine/reference/attention.ts";
import { Rng, type Tensor, tensor } from "../../engine/tensor/mod.ts";
import { attentionBackward, attentionForward } from "../../kernels/attention.ts";
import { flashAttentionBackward, flashAttentionForward } from "../../kernels/flash_attention.ts";
import { assertClose } from "../helpers.ts";
import { bits, expectClose, gpuTest, randomTensor } from "./gpu_helpers.ts";

/** A random f64 tensor rounded to f32 values, so the GPU and the reference see the same inputs. */
function f32Values(shape: readonly number[], rng: Rng, scale = 1): Tensor {
  return randomTensor(shape, rng, scale).astype("f32").astype("f64");
}

/** `gpu` as an adapter without subgroups sees it: what picks flash_attention_direct.wgsl. */
function withoutSubgroups(gpu: Gpu): Gpu {
  const adapter = { ...gpu.adapter, subgroupSize: undefined };
  return new Proxy(gpu, {
    get(target, key) {
      if (key === "adapter") return adapter;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The flash kernel's forward and backward over uploaded q, k, v, dz; outputs z, lse, dq, dk, dv. */
async function launchFlash(gpu: Gpu, [q, k, v, dz]: Tensor[], scale: number | undefined) {
  const [B, T, H] = q!.shape as [number, number, number, number];
  const options = scale === undefined ? {} : { scale };
  const inputs = [q!, k!, v!, dz!].map((t) => gpu.upload(t));
  const [gq, gk, gv, gdz] = inputs as [GpuTensor, GpuTensor, GpuTensor, GpuTensor];
  const lse = gpu.empty([B, H, T]);
  const [z, dq, dk, dv] = [0, 1, 2, 3].map(() => gpu.empty(q!.shape)) as GpuTensor[];
  const dispatches = [
    ...await flashAttentionForward(gpu, { q: gq, k: gk, v: gv }, { z: z!, lse }, options),
    ...await flashAttentionBackward(
      gpu,
      { q: gq, k: gk, v: gv, z: z!, lse, dz: gdz },
      { dq: dq!, dk: dk!, dv: dv! },
      options,
    ),
  ];
  const outputs = [z!, lse, dq!, dk!, dv!];
  const release = () => {
    releaseDispatches(dispatches);
    for (const t of [...inputs, ...outputs]) t.release();
  };
  return { dispatches, outputs, release };
}

Deno.test("attention reference: logsumexp of the causal scores", () => {
  // Position 0 sees key 0 (score 0): log 1; position 1 scores 0 and ln 3: log(1 + 3).
  const q = tensor([0, 1], [1, 2, 1, 1]);
  const k = tensor([0, Math.log(3)], [1, 2, 1, 1]);
  const lse = attentionLogsumexp(refForward(q, k, q).scores);
  assertClose(lse, tensor([0, Math.log(4)], [1, 1, 2]), 1e-15, "lse");
  // Scores of 1e4 would overflow exp without the max subtracted.
  const big = tensor([1e4, -Infinity, 1e4, 1e4], [1, 1, 2, 2]);
  assertClose(attentionLogsumexp(big), tensor([1e4, 1e4 + Math.log(2)], [1, 1, 2]), 1e-9, "big");
});

gpuTest("flash attention: z, lse and backward against float64, then the same bits", async (gpu) => {
  const views = gpu.adapter.subgroupSize === undefined ? [gpu] : [gpu, withoutSubgroups(gpu)];
  for (const view of views) await againstFloat64(view);
});

/** The float64 test's cases on `gpu`. */
async function againstFloat64(gpu: Gpu) {
  const rng = new Rng(12);
  // [B, T, H, E, scale]: T = 1; T below, at and off the 32-row tile; 300 (ten tiles, ragged);
  // E = 130 shrinks the workgroup-memory tile below 32 rows (31 in lavapipe's 32 KiB, 15 in
  // WebGPU's minimum 16 KiB); T = 1,024 with one head of d_head 4, to keep the reference quick;
  // a batch of 70,000, past WebGPU's 65,535 workgroups per dimension (the batch folded; with d_head
  // 4 on the software adapter's row kernels too); T = 1 and 5, below one 8-row chunk, on those.
  const cases = [
    [1, 1, 1, 1, undefined],
    [3, 1, 2, 4, undefined],
    [2, 5, 1, 4, 0.5],
    [3, 5, 2, 7, undefined],
    [2, 32, 3, 16, undefined],
    [2, 33, 2, 33, 0.3],
    [2, 70, 3, 8, 2],
    [1, 45, 2, 130, undefined],
    [1, 300, 2, 16, undefined],
    [1, 1024, 1, 4, undefined],
    [70000, 2, 1, 2, undefined],
    [70000, 2, 1, 4, undefined],
  ] as const;
  for (const [B, T, H, E, scale] of cases) {
    const shape = [B, T, H, E];
    const [q, k, v, dz] = [0, 1, 2, 3].map(() => f32Values(shape, rng));
    const options = scale === undefined ? {} : { scale };
    const ref = refForward(q!, k!, v!, options);
    const lseRef = attentionLogsumexp(ref.scores);
    const grads = refBackward({ q: q!, k: k!, v: v!, pattern: ref.pattern, dz: dz! }, options);

    const run = await launchFlash(gpu, [q!, k!, v!, dz!], scale);
    gpu.run(run.dispatches);
    const [z, lse, dq, dk, dv] = await gpu.read(run.outputs);
    // The same bound as attention.test.ts' for the same f32-against-f64 rounding: 5e-6 · √E (x10
    // at scale 2). The online softmax rescales the running sum once per 32-key tile, a few ulps
    // more on z; lse is a log of a sum of T terms, absolute error a few ulps of its size (≤ 10).
    const tol = 5e-6 * Math.sqrt(E) * (scale === 2 ? 10 : 1);
    const what = `[${shape}]${scale === undefined ? "" : ` scale ${scale}`}`;
    expectClose(z!, ref.z, tol, `z ${what}`);
    expectClose(lse!, lseRef, tol, `lse ${what}`);
    expectClose(dq!, grads.dq, tol, `dq ${what}`);
    expectClose(dk!, grads.dk, tol, `dk ${what}`);
    expectClose(dv!, grads.dv, tol, `dv ${what}`);

    const first = await bits(gpu, run.outputs);
    gpu.run(run.dispatches);
    assert.deepEqual(
      await bits(gpu, run.outputs),
      first,
      `bitwise the same on a second run ${what}`,
    );
    run.release();
  }
}

gpuTest("flash attention: equals attention.wgsl on the same inputs", async (gpu) => {
  const rng = new Rng(13);
  for (const shape of [[2, 37, 3, 16], [1, 129, 2, 32]] as const) {
    const [B, T, H] = shape;
    const [q, k, v, dz] = [0, 1, 2, 3].map(() => f32Values(shape, rng));
    const flash = await launchFlash(gpu, [q!, k!, v!, dz!], undefined);

    const inputs = [q!, k!, v!, dz!].map((t) => gpu.upload(t));
    const [gq, gk, gv, gdz] = inputs as [GpuTensor, GpuTensor, GpuTensor, GpuTensor];
    const pattern = gpu.empty([B, H, T, T]);
    const [z, dq, dk, dv] = [0, 1, 2, 3].map(() => gpu.empty(shape)) as GpuTensor[];
    const today = [
      ...await attentionForward(gpu, { q: gq, k: gk, v: gv }, { pattern, z: z! }),
      ...await attentionBackward(
        gpu,
        { q: gq, k: gk, v: gv, pattern, dz: gdz },
        { dq: dq!, dk: dk!, dv: dv! },
      ),
    ];
    gpu.run([...flash.dispatches, ...today]);
    const [fz, , fdq, fdk, fdv] = await gpu.read(flash.outputs);
    const [tz, tdq, tdk, tdv] = await gpu.read([z!, dq!, dk!, dv!]);
    // Both f32, both within 5e-6 · √E of float64: the two differ by at most the sum.
    const tol = 1e-5 * Math.sqrt(shape[3]);
    expectClose(fz!, tz!, tol, `z, flash vs attention.wgsl [${shape}]`);
    expectClose(fdq!, tdq!, tol, `dq, flash vs attention.wgsl [${shape}]`);
    expectClose(fdk!, tdk!, tol, `dk, flash vs attention.wgsl [${shape}]`);
    expectClose(fdv!, tdv!, tol, `dv, flash vs attention.wgsl [${shape}]`);

    flash.release();
    releaseDispatches(today);
    for (const t of [...inputs, pattern, z!, dq!, dk!, dv!]) t.release();
  }
});

gpuTest("flash attention: large scores stay finite", async (gpu) => {
  // Scores of order ±1e4 across several key tiles: the running max must rescale, not overflow.
  const rng = new Rng(14);
  const shape = [1, 70, 2, 8];
  const [q, k, v, dz] = [100, 100, 1, 1].map((s) => f32Values(shape, rng, s));
  const ref = refForward(q!, k!, v!);
  const run = await launchFlash(gpu, [q!, k!, v!, dz!], undefined);
  gpu.run(run.dispatches);
  const [z, lse, dq, dk, dv] = await gpu.read(run.outputs);
  const all = [z!, lse!, dq!, dk!, dv!].flatMap((t) => [...t.data]);
  assert.ok(all.every(Number.isFinite), "all finite");
  // As attention.test.ts: f32 rounding moves scores of 1e4 by ~1e-3; rows are nearly one-hot.
  expectClose(z!, ref.z, 1e-2, "z, scores ~1e4");
  run.release();
});

gpuTest(
  "flash attention: the row kernels on software adapters only, d_head of 4s",
  async (gpu) => {
    const labels = async (E: number, gpu: Gpu) => {
      const q = gpu.empty([2, 5, 3, E]);
      const lse = gpu.empty([2, 3, 5]);
      const ds = [
        ...await flashAttentionForward(gpu, { q, k: q, v: q }, { z: q, lse }),
        ...await flashAttentionBackward(gpu, { q, k: q, v: q, z: q, lse, dz: q }, {
          dq: q,
          dk: q,
          dv: q,
        }),
      ];
      releaseDispatches(ds);
      for (const t of [q, lse]) t.release();
      return ds.map((d) => d.label.split(":")[0]);
    };
    const tiled = "flash_attention.wgsl";
    const software = gpu.adapter.isFallback;
    const rows = !software
      ? tiled
      : gpu.adapter.subgroupSize === 8
      ? "flash_attention_subgroup.wgsl"
      : "flash_attention_direct.wgsl";
    const direct = software ? "flash_attention_direct.wgsl" : tiled;
    // forward, backward_delta (always the tiled file's: it has no barrier), backward_query, _key
    assert.deepEqual(await labels(8, gpu), [rows, tiled, rows, rows], "d_head 8");
    const hidden = await labels(8, withoutSubgroups(gpu));
    assert.deepEqual(hidden, [direct, tiled, direct, direct], "d_head 8, no subgroups");
    assert.deepEqual(await labels(7, gpu), [tiled, tiled, tiled, tiled], "d_head 7: not vec4s");
  },
);

gpuTest("flash attention: wrong shapes are refused, naming the operand", async (gpu) => {
  const q = gpu.empty([2, 3, 4, 5]);
  const lse = gpu.empty([2, 4, 3]);
  const bad = gpu.empty([2, 3, 4]);
  await assert.rejects(
    flashAttentionForward(gpu, { q, k: q, v: q }, { z: q, lse: bad }),
    /flash_attention_forward: lse has shape \[2,3,4\], expected \[2,4,3\]/,
  );
  await assert.rejects(
    flashAttentionBackward(gpu, { q, k: q, v: q, z: bad, lse, dz: q }, { dq: q, dk: q, dv: q }),
    /flash_attention_backward: z has shape \[2,3,4\], expected \[2,3,4,5\]/,
  );
  for (const t of [q, lse, bad]) t.release();
});
