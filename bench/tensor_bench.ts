/**
 * The CPU tensor library's benchmark: `matmul` and `einsum` GFLOP/s at 256³ and 512³ against a
 * naive triple loop measured in the same run (and numpy, when python3 has it, as an outside peer),
 * and the time of the 2D Fourier transform of a `[113, 113, 512]` tensor (the grokking analysis'
 * change of basis of neuron activations over (x, y)).
 *
 * @module
 */

import { einsum, fourier2d, matmul, rand } from "../engine/tensor/mod.ts";
import { naiveGemm } from "../engine/tensor/gemm_wasm.ts";
import { medianMs, printTable } from "./timing.ts";

/** numpy's f64 matmul GFLOP/s at n³ (median of 7), or undefined where python3 or numpy is missing. */
async function numpyGflops(n: number): Promise<number | undefined> {
  const script = `
import numpy as np, time
a = np.random.rand(${n}, ${n}); b = np.random.rand(${n}, ${n}); a @ b
ts = []
for _ in range(7):
    t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
print(2 * ${n}**3 / sorted(ts)[3] / 1e9)`;
  try {
    const out = await new Deno.Command("python3", { args: ["-c", script], stderr: "null" })
      .output();
    return out.success ? Number(new TextDecoder().decode(out.stdout)) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the CPU benchmark and prints its table. */
export async function benchTensor(): Promise<void> {
  console.log(
    `CPU: Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} cores`,
  );
  const rows = [[
    "f64, n x n x n",
    "naive GFLOP/s",
    "matmul GFLOP/s",
    "x naive",
    "einsum GFLOP/s",
    "x naive",
    "numpy GFLOP/s",
  ]];
  for (const n of [256, 512]) {
    const a = rand([n, n], { seed: 1 });
    const b = rand([n, n], { seed: 2 });
    const flops = 2 * n ** 3;
    const gf = (ms: number) => flops / ms / 1e6;
    const naive = gf(medianMs(() => naiveGemm(a.data, b.data, { m: n, k: n, n }), { runs: 3 }));
    const mm = gf(medianMs(() => matmul(a, b)));
    const es = gf(medianMs(() => einsum("i k, k j -> i j", a, b)));
    const np = await numpyGflops(n);
    rows.push([
      `${n}`,
      naive.toFixed(2),
      mm.toFixed(2),
      (mm / naive).toFixed(1),
      es.toFixed(2),
      (es / naive).toFixed(1),
      np === undefined ? "n/a" : np.toFixed(1),
    ]);
  }
  printTable(rows);

  const acts = rand([113, 113, 512], { seed: 3 });
  const ms = medianMs(() => fourier2d(acts), { runs: 3 });
  const flops = 2 * 2 * 113 ** 3 * 512;
  console.log(
    `fourier2d [113, 113, 512] (two change-of-basis matmuls): ${ms.toFixed(0)} ms, ` +
      `${(flops / ms / 1e6).toFixed(2)} GFLOP/s`,
  );
}
