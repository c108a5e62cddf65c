/**
 * Attention on the GPU: the pattern-materialising kernel (`kernels/attention.wgsl`, what a hooked
 * run that caches `hook_pattern` uses) against the tiled, online-softmax one
 * (`kernels/flash_attention.wgsl`, what training uses), forward and forward+backward at T = 64,
 * 256 and 1,024 on the adapter at hand, and the bytes of the buffers each allocates per step
 * beyond its inputs (`q, k, v, dz`): the pattern and the backward's `dscores` scratch, both
 * `[B, H, T, T]`, against `lse` and the `delta` scratch, both `[B, H, T]`; each writes `z, dq, dk,
 * dv`. GPU time as in `gpu_bench.ts` (timestamp queries where the adapter has them).
 *
 * The outside peer, in the same run and before the GPU's (a software adapter shares the CPU):
 * PyTorch on the CPU, 2 threads, the same shapes, the naive materialised softmax(q·kᵀ)·v
 * (`bench/torch_attention.py`; `F.scaled_dot_product_attention` too where the torch has it).
 *
 * @module
 */

import { type Dispatch, type Gpu, type GpuTensor, releaseDispatches } from "../engine/gpu/mod.ts";
import { randn } from "../engine/tensor/mod.ts";
import { attentionBackward, attentionForward } from "../kernels/attention.ts";
import { flashAttentionBackward, flashAttentionForward } from "../kernels/flash_attention.ts";
import { benchAdapter, gpuMs } from "./gpu_bench.ts";
import { printTable, runPython } from "./timing.ts";

/** Batch, heads and d_head of every case: a small model's attention layer, one sequence. */
const B = 1;
const H = 4;
const E = 32;

/** Mebibytes, two decimals. */
function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

interface Kernel {
  forward: Dispatch[];
  step: Dispatch[];
  /** Bytes allocated for the step beyond q, k, v, dz. */
  bytes: number;
  release(): void;
}

/** Today's kernel: pattern [B, H, T, T] saved, dscores [B, H, T, T] scratch. */
async function today(gpu: Gpu, [q, k, v, dz]: GpuTensor[], T: number): Promise<Kernel> {
  const pattern = gpu.empty([B, H, T, T]);
  const [z, dq, dk, dv] = [0, 1, 2, 3].map(() => gpu.empty([B, T, H, E])) as GpuTensor[];
  const forward = await attentionForward(gpu, { q: q!, k: k!, v: v! }, { pattern, z: z! });
  const backward = await attentionBackward(
    gpu,
    { q: q!, k: k!, v: v!, pattern, dz: dz! },
    { dq: dq!, dk: dk!, dv: dv! },
  );
  return {
    forward,
    step: [...forward, ...backward],
    bytes: 4 * (2 * B * H * T * T + 4 * B * T * H * E),
    release() {
      releaseDispatches(backward);
      for (const t of [pattern, z!, dq!, dk!, dv!]) t.release();
    },
  };
}

/** The flash kernel: lse [B, H, T] saved, delta [B, H, T] scratch. */
async function flash(gpu: Gpu, [q, k, v, dz]: GpuTensor[], T: number): Promise<Kernel> {
  const lse = gpu.empty([B, H, T]);
  const [z, dq, dk, dv] = [0, 1, 2, 3].map(() => gpu.empty([B, T, H, E])) as GpuTensor[];
  const forward = await flashAttentionForward(gpu, { q: q!, k: k!, v: v! }, { z: z!, lse });
  const backward = await flashAttentionBackward(
    gpu,
    { q: q!, k: k!, v: v!, z: z!, lse, dz: dz! },
    { dq: dq!, dk: dk!, dv: dv! },
  );
  return {
    forward,
    step: [...forward, ...backward],
    bytes: 4 * (2 * B * H * T + 4 * B * T * H * E),
    release() {
      releaseDispatches(backward);
      for (const t of [lse, z!, dq!, dk!, dv!]) t.release();
    },
  };
}

/** The lengths measured. */
const LENGTHS = [64, 256, 1024];

/** PyTorch's times per length: forward and step ms of each form it ran (`naive`, `sdpa`). */
interface TorchPeer {
  device: string;
  cases: Record<string, [number, number]>[];
}

/** `bench/torch_attention.py` on LENGTHS; undefined without python3 and torch. */
async function torchPeer(): Promise<TorchPeer | undefined> {
  const script = new URL("./torch_attention.py", import.meta.url).pathname;
  const out = await runPython([script, JSON.stringify(LENGTHS.map((T) => [B, T, H, E]))]);
  return out === undefined ? undefined : JSON.parse(out);
}

/** Runs the attention benchmark and prints its table. */
export async function benchAttention(): Promise<void> {
  const torch = await torchPeer();
  const gpu = await benchAdapter();
  if (gpu === undefined) return;
  console.log(`causal attention, B ${B}, H ${H}, d_head ${E}; peers: attention.wgsl, same run;`);
  console.log(`  ${torch?.device ?? "no PyTorch (python3 with torch not found)"}, same run`);
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  const rows = [[
    "T",
    "kernel",
    "fwd ms",
    "fwd+bwd ms",
    "x today",
    "x torch",
    "MiB per step",
    "of which [B,H,T,T]",
  ]];
  for (const [i, T] of LENGTHS.entries()) {
    const peer = torch?.cases[i];
    const torchMs = peer?.naive?.[1];
    for (const [form, [fwd, step]] of Object.entries(peer ?? {})) {
      const square = 4 * 2 * B * H * T * T; // its pattern, saved, and the backward's dscores
      const what = form === "naive" ? "torch naive (CPU)" : `torch ${form} (CPU)`;
      rows.push([`${T}`, what, fwd.toFixed(3), step.toFixed(3), "", "1.00", "", mib(square)]);
    }
    const inputs = [1, 2, 3, 4].map((seed) =>
      gpu.upload(randn([B, T, H, E], { seed, dtype: "f32" }))
    );
    let todayMs: number | undefined;
    for (const [name, build] of [["attention.wgsl", today], ["flash", flash]] as const) {
      if (name === "attention.wgsl" && 4 * B * H * T * T > limit) {
        rows.push([`${T}`, name, "n/a", "n/a", "", "", `pattern over ${mib(limit)} MiB`, ""]);
        continue;
      }
      const kernel = await build(gpu, inputs, T);
      const budget = T >= 1024 ? 4000 : 1000;
      const fwd = await gpuMs(gpu, kernel.forward, budget, 3);
      const step = await gpuMs(gpu, kernel.step, budget, 3);
      if (name === "attention.wgsl") todayMs = step;
      const square = name === "attention.wgsl" ? 4 * 2 * B * H * T * T : 0;
      rows.push([
        `${T}`,
        name,
        fwd.toFixed(3),
        step.toFixed(3),
        todayMs === undefined ? "n/a" : (todayMs / step).toFixed(2),
        torchMs === undefined ? "n/a" : (torchMs / step).toFixed(2),
        mib(kernel.bytes),
        mib(square),
      ]);
      kernel.release();
    }
    for (const t of inputs) t.release();
  }
  printTable(rows);
}
