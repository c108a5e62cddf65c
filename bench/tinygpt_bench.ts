/**
 * The tinygpt training benchmark (issue 12, item 8): tokens per second training the `tinygpt`
 * shape (4 layers, d_model 128, 4 heads of 32, d_mlp 512, n_ctx 128, GELU, LayerNorm, 60 tokens,
 * minibatches of 16 × 128, every position scored) on random tokens, for the float64 reference
 * (`cpu_model.ts`), the f32 model (`engine/model/cpu_fast/`) on one thread and on a worker per core,
 * the GPU model (`gpu_model.ts`) on the adapter at hand, and the PyTorch peer
 * `bench/torch_tinygpt.py` on the same tokens with 2 threads, in the same run. Every CPU path takes
 * the trainer's AdamW step (`adamwStep`) after each gradient and the GPU path its AdamW kernel, as
 * the peer takes `torch.optim.AdamW`'s.
 *
 * @module
 */

import { DEFAULT_MODEL, type ModelConfig } from "../engine/model/config.ts";
import { cpuLossAndGrads } from "../engine/model/cpu_model.ts";
import { CpuWorkers, type FastBatch, fastLossAndGrads } from "../engine/model/cpu_fast/mod.ts";
import { flatten, initParams, paramLayout, unflatten } from "../engine/model/params.ts";
import { adamwStep } from "../engine/reference/adamw.ts";
import { releaseDispatches } from "../engine/gpu/mod.ts";
import { adamw, adamwBuffers } from "../kernels/mod.ts";
import { buildGpuModel } from "../engine/model/gpu_model.ts";
import { benchAdapter } from "./gpu_bench.ts";
import { Rng, Tensor } from "../engine/tensor/mod.ts";
import { printTable, runPython } from "./timing.ts";

/** `tinygpt`'s shape, with a character vocabulary's size; every bias trains, as in the peer. */
export const TINYGPT: ModelConfig = {
  ...DEFAULT_MODEL,
  n_layers: 4,
  d_model: 128,
  d_head: 32,
  n_heads: 4,
  d_mlp: 512,
  d_vocab: 60,
  d_vocab_out: 60,
  n_ctx: 128,
  act_fn: "gelu",
  normalization_type: "LN",
  trainable_biases: "all",
};
const BATCH = 16;
/** The peer's AdamW: lr 1e-3, weight decay 0.1, PyTorch's betas and eps. */
const ADAMW = { lr: 1e-3, weightDecay: 0.1 };

type LossAndGrads = (
  params: Float32Array,
  batch: FastBatch,
) => Promise<{ loss: number; grads: Float32Array | Float64Array }>;

/** One path's figures: ms per step and the first and last losses. */
interface Timed {
  msPerStep: number;
  lossFirst: number;
  lossLast: number;
}

/**
 * Trains `steps` steps from the same initial weights on `windows` `[steps, B, T + 1]`; the first
 * step is a warm-up (JIT, kernel compilation, worker start) and is not timed.
 */
async function train(run: LossAndGrads, windows: Int32Array, steps: number): Promise<Timed> {
  const layout = paramLayout(TINYGPT);
  const P = layout.size;
  let params = new Tensor(initParams(TINYGPT, layout), [P]);
  let m = new Tensor(new Float32Array(P), [P]);
  let v = new Tensor(new Float32Array(P), [P]);
  let lossFirst = NaN, lossLast = NaN, t0 = 0;
  for (let s = 0; s < steps; s++) {
    if (s === 1) t0 = performance.now();
    const { loss, grads } = await run(params.data as Float32Array, batchOf(windows, s));
    const next = adamwStep(params, new Tensor(grads, [P]), m, v, s + 1, ADAMW);
    params = next.params.astype("f32");
    m = next.m.astype("f32");
    v = next.v.astype("f32");
    if (s === 0) lossFirst = loss;
    lossLast = loss;
  }
  return { msPerStep: (performance.now() - t0) / (steps - 1), lossFirst, lossLast };
}

/** Step s's minibatch: each window's first T tokens in, its last T as the targets. */
function batchOf(windows: Int32Array, s: number): FastBatch {
  const T = TINYGPT.n_ctx;
  const tokens = new Int32Array(BATCH * T);
  const targets = new Int32Array(BATCH * T);
  for (let r = 0; r < BATCH; r++) {
    const at = (s * BATCH + r) * (T + 1);
    tokens.set(windows.subarray(at, at + T), r * T);
    targets.set(windows.subarray(at + 1, at + T + 1), r * T);
  }
  // The mean over all B·T scored positions, as F.cross_entropy's.
  return {
    tokens,
    targets,
    rowWeights: new Float64Array(BATCH).fill(1 / (BATCH * T)),
    batch: BATCH,
  };
}

/**
 * The GPU model's training on `windows`: each step writes its minibatch and submits forward,
 * backward and AdamW, never waiting on the GPU in between (as the trainer, which gathers its rows
 * on the GPU instead); the losses of the warm-up step and of the last are read back. Undefined
 * without an adapter.
 */
async function trainGpu(windows: Int32Array, steps: number): Promise<Timed | undefined> {
  const gpu = await benchAdapter();
  if (gpu === undefined) return undefined;
  const layout = paramLayout(TINYGPT);
  const params = gpu.upload(initParams(TINYGPT, layout), [layout.size]);
  const grads = gpu.zeros([layout.size]);
  const { m, v, state } = adamwBuffers(gpu, params);
  const fit = await buildGpuModel(gpu, TINYGPT, layout, {
    batch: BATCH,
    params,
    grads,
    scored: "all",
  });
  const optimizer = await adamw(gpu, { params, grads, m, v, state }, ADAMW);
  try {
    gpu.write(fit.rowWeights!, new Float32Array(BATCH).fill(1 / (BATCH * TINYGPT.n_ctx)));
    const runStep = (s: number) => {
      const b = batchOf(windows, s);
      gpu.write(fit.tokens, b.tokens);
      gpu.write(fit.targets, b.targets);
      gpu.run([...fit.forward, ...fit.backward, ...optimizer]);
    };
    /** The mean loss of the step just run. */
    const meanLoss = async () => {
      const [loss] = await gpu.read([fit.loss]);
      return (loss!.data as Float32Array).reduce((a, x) => a + x, 0) / loss!.size;
    };
    runStep(0);
    const lossFirst = await meanLoss();
    const t0 = performance.now();
    for (let s = 1; s < steps; s++) runStep(s);
    const lossLast = await meanLoss();
    return { msPerStep: (performance.now() - t0) / (steps - 1), lossFirst, lossLast };
  } finally {
    releaseDispatches(optimizer);
    fit.release();
    [params, grads, m, v, state].forEach((t) => t.release());
  }
}

/** The float64 reference's loss and gradients at every scored position. */
function referenceStep(): LossAndGrads {
  const layout = paramLayout(TINYGPT);
  return (params, b) => {
    const weights = unflatten(layout, params);
    const result = cpuLossAndGrads(TINYGPT, weights, b.tokens, b.targets, b.rowWeights, b.batch);
    return Promise.resolve({ loss: result.loss, grads: flatten(layout, result.grads) });
  };
}

/** Runs the tinygpt training benchmark: `steps` per path (the reference runs 2: it is slow). */
export async function benchTinygpt(options: { steps?: number } = {}): Promise<void> {
  const steps = options.steps ?? 8;
  const T = TINYGPT.n_ctx;
  const rng = new Rng(12);
  const windows = Int32Array.from(
    { length: steps * BATCH * (T + 1) },
    () => rng.int(TINYGPT.d_vocab),
  );
  const tokensPerStep = BATCH * T;
  const cores = navigator.hardwareConcurrency;
  console.log(
    `tinygpt shape: 4 layers, d_model 128, 4 heads × 32, d_mlp 512, n_ctx 128, GELU, LN, ` +
      `60 tokens; minibatch ${BATCH} × ${T}, every position scored; ${cores} cores; ` +
      `${steps - 1} timed steps after a warm-up`,
  );
  const layout = paramLayout(TINYGPT);
  const rows: [string, string, Timed | undefined][] = [];

  rows.push([
    "float64 reference (cpu_model.ts)",
    "1",
    await train(referenceStep(), windows, 2),
  ]);
  const one: LossAndGrads = (params, b) =>
    Promise.resolve(fastLossAndGrads(TINYGPT, layout, params, b));
  rows.push(["f32 fast (cpu_fast), one thread", "1", await train(one, windows, steps)]);
  const pool = new CpuWorkers(cores);
  try {
    const all: LossAndGrads = (params, b) => pool.lossAndGrads(TINYGPT, params, b);
    rows.push([
      `f32 fast (cpu_fast), ${cores} workers`,
      String(cores),
      await train(all, windows, steps),
    ]);
  } finally {
    pool.close();
  }

  rows.push(["GPU model (gpu_model.ts)", "adapter", await trainGpu(windows, steps)]);

  const file = await Deno.makeTempFile({ suffix: ".bin" });
  let torch: Timed | undefined;
  try {
    await Deno.writeFile(file, new Uint8Array(windows.buffer));
    const script = new URL("./torch_tinygpt.py", import.meta.url).pathname;
    const { n_layers, d_model, n_heads, d_mlp, d_vocab } = TINYGPT;
    const out = await runPython([
      script,
      file,
      String(steps),
      String(BATCH),
      String(T),
      String(d_vocab),
      String(n_layers),
      String(d_model),
      String(n_heads),
      String(d_mlp),
      "2",
    ]);
    if (out !== undefined) {
      const r = JSON.parse(out.trim().split("\n").at(-1)!);
      torch = { msPerStep: r.ms_per_step, lossFirst: r.loss_first, lossLast: r.loss_last };
    }
  } finally {
    await Deno.remove(file);
  }
  rows.push(["PyTorch CPU (torch_tinygpt.py)", "2", torch]);

  const tokensPerS = (t: Timed) => tokensPerStep / (t.msPerStep / 1000);
  printTable([
    ["path", "threads", "ms/step", "tokens/s", "× PyTorch", "loss first → last"],
    ...rows.map(([name, threads, t]) => [
      name,
      threads,
      t ? t.msPerStep.toFixed(0) : "-",
      t ? tokensPerS(t).toFixed(0) : "did not run",
      t && torch ? (tokensPerS(t) / tokensPerS(torch)).toFixed(2) : "-",
      t ? `${t.lossFirst.toFixed(3)} → ${t.lossLast.toFixed(3)}` : "-",
    ]),
  ]);
  // The targets: the CPU path (its workers) ≥ 0.5× PyTorch CPU, the GPU path ≥ 0.7×.
  for (const [row, target] of [[rows[2]!, 0.5], [rows[3]!, 0.7]] as const) {
    const t = row[2];
    if (!torch || !t) continue;
    const ratio = tokensPerS(t) / tokensPerS(torch);
    console.log(
      `${row[0]}: target ≥ ${target}× PyTorch CPU ${ratio >= target ? "met" : "NOT met"} ` +
        `(${ratio.toFixed(2)}×)`,
    );
  }
}
