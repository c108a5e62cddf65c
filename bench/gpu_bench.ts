/**
 * The GPU engine's benchmark: matmul GFLOP/s at 1024³, 4096³ and the grokking step's two largest
 * shapes, the tinygpt step's products by the tiled kernel and by the one `chooseTiles` picks
 * (`matmul_subgroup.wgsl` or `matmul_direct.wgsl` on a software adapter), and the cost of one
 * dispatch, on the adapter at hand. Peers measured in the same run: PyTorch's fp32 matmul (on
 * CUDA where python3 has it, else on the CPU), and the CPU tensor library's matmul.
 *
 * GPU time is read from the GPU's own clock where the adapter has `timestamp-query` (timestamps
 * written at the start and end of the pass, so the fixed cost of a submit and its wait, about
 * 10 ms in Deno, is outside them); without it, it is the difference between `2r` and `r`
 * repetitions encoded in one submit, in which that fixed cost cancels out.
 *
 * @module
 */

import { type Dispatch, type Gpu, GpuTensor, requestGpu } from "../engine/gpu/mod.ts";
import { matmul as cpuMatmul, rand } from "../engine/tensor/mod.ts";
import { addInplace } from "../kernels/add.ts";
import { chooseTiles, matmul } from "../kernels/matmul.ts";
import { medianMs, printTable, runPython } from "./timing.ts";

/**
 * Milliseconds between the GPU's timestamps at the start and end of one pass of `dispatches`
 * encoded `repeat` times (the device must have `timestamp-query`).
 */
async function timestampMs(gpu: Gpu, dispatches: readonly Dispatch[], repeat: number) {
  const querySet = gpu.device.createQuerySet({ type: "timestamp", count: 2 });
  const resolved = gpu.device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  try {
    gpu.run(dispatches, {
      repeat,
      timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
    const encoder = gpu.device.createCommandEncoder();
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    gpu.device.queue.submit([encoder.finish()]);
    // Two u64 nanosecond counts, read back as four i32 words.
    const [words] = await gpu.read([new GpuTensor(resolved, [4], { dtype: "i32" })]);
    const [t0, t1] = new BigUint64Array(words!.data.buffer, words!.data.byteOffset, 2);
    return Number(t1! - t0!) / 1e6;
  } finally {
    querySet.destroy();
    resolved.destroy();
  }
}

/**
 * Milliseconds the GPU spends on one run of `dispatches`, the median of `samples`: by timestamps
 * where the device has them, else by differencing `2r` and `r` repetitions (the submit's fixed
 * cost cancelled). `r` grows until a run takes about a quarter of `budgetMs`.
 */
export async function gpuMs(
  gpu: Gpu,
  dispatches: readonly Dispatch[],
  budgetMs: number,
  samples = 5,
): Promise<number> {
  const wall = async (repeat: number) => {
    const t0 = performance.now();
    gpu.run(dispatches, { repeat });
    await gpu.sync();
    return performance.now() - t0;
  };
  await wall(1); // warm-up: pipelines, caches, clocks
  let r = 1;
  let once = await wall(1);
  while (once * 2 < budgetMs / 4 && r < 1 << 14) {
    r *= 2;
    once = await wall(r);
  }
  const timestamps = gpu.adapter.features.includes("timestamp-query");
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    ms.push(
      timestamps
        ? await timestampMs(gpu, dispatches, r) / r
        : (await wall(2 * r) - await wall(r)) / r,
    );
  }
  ms.sort((a, b) => a - b);
  return Math.max(ms[Math.floor(samples / 2)]!, 1e-6);
}

/** PyTorch's fp32 matmul time in ms for each shape, on CUDA if it has one; undefined without torch. */
async function torchMs(
  shapes: [number, number, number, boolean][],
): Promise<{ device: string; ms: number[] } | undefined> {
  const script = `
import json, os, sys, time, torch
torch.backends.cuda.matmul.allow_tf32 = False
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_num_threads(os.cpu_count())
out = []
for m, k, n, ta in json.loads(sys.argv[1]):
    a = torch.randn((k, m) if ta else (m, k), device=dev)
    b = torch.randn(k, n, device=dev)
    f = (lambda: a.t() @ b) if ta else (lambda: a @ b)
    def run(reps):
        if dev == "cuda": torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps): f()
        if dev == "cuda": torch.cuda.synchronize()
        return time.perf_counter() - t0
    run(2); reps = 1
    while run(reps) < 0.2 and reps < 4096: reps *= 2
    out.append(sorted(run(reps) / reps for _ in range(3))[1] * 1e3)
name = torch.cuda.get_device_name() if dev == "cuda" else f"CPU, {torch.get_num_threads()} threads"
print(json.dumps({"device": f"torch {torch.__version__} on {name}", "ms": out}))`;
  const out = await runPython(["-c", script, JSON.stringify(shapes)]);
  return out === undefined ? undefined : JSON.parse(out);
}

/**
 * The adapter a GPU benchmark runs on, its name printed first; without one, "skipped" and the
 * reason, and undefined.
 */
export async function benchAdapter(): Promise<Gpu | undefined> {
  try {
    const gpu = await requestGpu();
    console.log(`adapter: ${gpu.describe()}`);
    return gpu;
  } catch (e) {
    console.log(`skipped: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The tinygpt training step's products (rows 16 × 128, d_model 128, d_mlp 512; forward, input
 * gradient and weight gradient) in GFLOP/s by the tiled `matmul.wgsl` and by the kernel
 * `chooseTiles` picks for the adapter, timed alternately in the same run (best of 3 each), so a
 * busy machine slows both alike.
 *
 * @example
 * ```ts ignore
 * await benchTinygptProducts(await requestGpu());
 * ```
 */
export async function benchTinygptProducts(gpu: Gpu): Promise<void> {
  // [m, k, n, A stored transposed, B stored transposed], and what the product is.
  const shapes: [number, number, number, boolean, boolean, string][] = [
    [2048, 128, 512, false, false, "x·W_in"],
    [2048, 512, 128, false, false, "post·W_out"],
    [2048, 128, 512, false, true, "dout·W_outᵀ"],
    [2048, 512, 128, false, true, "dpre·W_inᵀ"],
    [512, 2048, 128, true, false, "postᵀ·dout"],
    [128, 2048, 512, true, false, "xᵀ·dpre"],
  ];
  const rows = [["tinygpt product", "m×k×n", "tiled GFLOP/s", "chosen", "GFLOP/s", "x tiled"]];
  for (const [m, k, n, transA, transB, what] of shapes) {
    const flops = 2 * m * n * k;
    const a = gpu.upload(rand(transA ? [k, m] : [m, k], { seed: 1, dtype: "f32" }));
    const b = gpu.upload(rand(transB ? [n, k] : [k, n], { seed: 2, dtype: "f32" }));
    const c = gpu.empty([m, n]);
    // The tiles the cost model picks when the direct kernel is not on offer.
    const { tiles } = chooseTiles(gpu, { m, n, k, batch: 1, transA, transB, alignedA: false });
    const tiled = await matmul(gpu, a, b, c, { transA, transB, tiles });
    const chosen = await matmul(gpu, a, b, c, { transA, transB });
    const best = [Infinity, Infinity];
    for (let round = 0; round < 3; round++) {
      best[0] = Math.min(best[0]!, await gpuMs(gpu, tiled, 300, 3));
      best[1] = Math.min(best[1]!, await gpuMs(gpu, chosen, 300, 3));
    }
    const [g0, g1] = best.map((ms) => flops / ms / 1e6) as [number, number];
    rows.push([
      what,
      `${m}×${k}×${n}`,
      g0.toFixed(2),
      chosen[0]!.label.split(":")[0]!,
      g1.toFixed(2),
      (g1 / g0).toFixed(2),
    ]);
    for (const t of [a, b, c]) t.release();
  }
  printTable(rows);
}

/** Runs the GPU benchmark and prints its tables. */
export async function benchGpu(): Promise<void> {
  const gpu = await benchAdapter();
  if (gpu === undefined) return;
  const clock = gpu.adapter.features.includes("timestamp-query")
    ? "timestamp queries"
    : "2r - r repetitions";
  console.log(`GPU time from: ${clock}`);
  // [m, k, n, A stored transposed]: the two largest products of a grokking step (3,830 examples ×
  // 3 positions = 11,490 rows): the MLP's input projection, and its weight gradient xᵀ·dy.
  const shapes: [number, number, number, boolean][] = [
    [1024, 1024, 1024, false],
    [4096, 4096, 4096, false],
    [11490, 128, 512, false],
    [128, 11490, 512, true],
  ];
  const peer = await torchMs(shapes);
  console.log(`peer: ${peer?.device ?? "none (python3 with torch not found)"}`);
  const rows = [["fp32 product", "mechlab ms", "GFLOP/s", "peer ms", "peer GFLOP/s", "x peer"]];
  for (const [i, [m, k, n, transA]] of shapes.entries()) {
    const flops = 2 * m * n * k;
    const a = gpu.upload(rand(transA ? [k, m] : [m, k], { seed: 1, dtype: "f32" }));
    const b = gpu.upload(rand([k, n], { seed: 2, dtype: "f32" }));
    const c = gpu.empty([m, n]);
    const ds = await matmul(gpu, a, b, c, { transA });
    // A software adapter takes about 20 s for one 4096³ product: time it fewer times.
    const ms = await gpuMs(gpu, ds, 2000, gpu.adapter.isFallback && m > 2048 ? 1 : 5);
    const p = peer?.ms[i];
    rows.push([
      `[${transA ? `${k},${m}]ᵀ` : `${m},${k}]`}x[${k},${n}]`,
      ms.toFixed(3),
      (flops / ms / 1e6).toFixed(1),
      p === undefined ? "n/a" : p.toFixed(3),
      p === undefined ? "n/a" : (flops / p / 1e6).toFixed(1),
      p === undefined ? "n/a" : (p / ms).toFixed(2),
    ]);
    for (const t of [a, b, c]) t.release();
  }
  printTable(rows);
  await benchTinygptProducts(gpu);

  const x = rand([512, 512], { seed: 3 });
  const cpuMs = medianMs(() => cpuMatmul(x, x), { runs: 5 });
  console.log(
    `CPU tensor library matmul 512³ (f64): ${(2 * 512 ** 3 / cpuMs / 1e6).toFixed(1)} GFLOP/s`,
  );

  // The cost of one small dispatch inside a pass: what a training step of ~50 kernels pays.
  const tiny: GpuTensor = gpu.zeros([256]);
  const bias = gpu.zeros([256]);
  const one = await addInplace(gpu, tiny, bias);
  const dispatches = Array.from({ length: 1000 }, () => one[0]!);
  const per = (await gpuMs(gpu, dispatches, 1000)) / 1000;
  console.log(`one small dispatch (256 elements) within a pass: ${(per * 1000).toFixed(1)} us`);
  tiny.release();
  bias.release();
}
