/**
 * How much memory a run needs, from its config alone, and the check that refuses one this machine
 * cannot hold before anything is allocated (a `d_mlp` of 5,000,000 otherwise trains until the
 * kernel kills it). The command line and the server's launch both check here.
 *
 * The count, per path (shape letters as the models': B batch rows, T n_ctx, D d_model, H n_heads,
 * E d_head, M d_mlp, U d_vocab_out, P the flat parameter count, N the evaluation rows, S the
 * steps in one GPU submit, `eval_every`):
 *
 * - a row's forward activations, per layer: the residual stream and the sublayer outputs (5·T·D,
 *   3·T·D attention-only), LayerNorm outputs (2·T·D, with LN), q, k, v, z (4·T·H·E), the MLP's
 *   pre and post (2·T·M, with an MLP), and on the GPU each query's logsumexp (H·T: its tiled
 *   attention keeps nothing of T × T); then the embedding (T·D) and the logits (T·U on the CPU,
 *   which keeps every position; U on the GPU, the last only). Where only the last position is
 *   scored, the GPU's last block runs ln2 and the MLP there alone (`ModelContext.tailAtLast`): its
 *   mid, MLP output and resid_post are then 3·D more instead of 2·T·D, ln2's output D instead of
 *   T·D, and the MLP's pre and post 2·M;
 * - training keeps a gradient beside each activation (twice the forward), and the GPU's backward
 *   keeps each of the q, k and v paths' gradient into the residual (3·T·D more);
 * - the CPU's attention is the float64 reference, which materialises `[B, H, T, T]`: a training
 *   step keeps each layer's scores and pattern (2·H·T·T per layer) and makes about 6·H·T·T more
 *   in passing in one layer (q·k and its scaled and masked copies, the softmax's, the backward's
 *   dpattern, its products and dscores); an evaluation keeps none, one layer making about 5·H·T·T
 *   (measured peaks at T = 512 and 1,024, 1 to 3 layers: 4.5 and 7.6 to 12.8 of `[B, H, T, T]`);
 * - CPU (float64 maths, f32 between steps): weights, m, v in f32 (3·P·4) and, in a step, the
 *   weights, gradients, flat gradients and AdamW's new weights, m, v in f64 (6·P·8), with the
 *   larger of the training batch's activations (forward and backward) and the evaluation batch's
 *   (forward), all in f64;
 * - GPU (f32): weights, gradients, m, v (4·P·4), the training batch's activations and gradients
 *   and an evaluation chunk's activations (`evalChunks`: K chunks of C rows, about a training
 *   batch each), with every chunk's examples (K·C·(T+1)·4, or T+T) when there are several; with
 *   minibatches every example (N·(T+1)·4) and a table of S steps of rows and weights (S·B·8).
 *   The host keeps what a checkpoint reads back (weights, m, v in f32 and the weights in f64:
 *   P·20) and the table it fills (S·B·16);
 * - both: the task's examples (N·(T+1)·4) and their copies as the training and evaluation batches.
 *
 * It is an estimate of the big arrays, not of every byte (small buffers and the runtime are left
 * out): the grokking preset's CPU run peaked at 1.0 GB resident against 0.76 GB estimated, the
 * oocl preset's at 3.5 GB against 4.8 GB. A refused run is one far out of reach; a passed one can
 * still be tight.
 *
 * @module
 */

import { scoresLastOnly, type TaskData } from "../data/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { tailAtLast } from "../model/gpu/context.ts";
import { paramLayout } from "../model/params.ts";
import type { RunConfig } from "../runs/mod.ts";
import type { Device, Gpu } from "../gpu/mod.ts";
import { alignedRows, evalChunks } from "./batches.ts";

/** A run's memory, in bytes. */
export interface RunMemory {
  /** The parameter count P, for messages. */
  params: number;
  /** This process's memory at the run's peak. */
  host: number;
  /** GPU path: every GPU buffer together (0 on the CPU path). */
  gpu: number;
  /** GPU path: the largest single GPU buffer, which WebGPU caps (0 on the CPU path). */
  largestBuffer: number;
  /** What most of it is: the parameters (with gradients and moments) or the activations. */
  mostly: "parameters" | "activations";
}

/**
 * Floats of one row's forward activations: per layer (with `attention` floats of the attention's
 * own beyond q, k, v, z), the last one's MLP at the last position alone where `atLast`, then the
 * embedding and the logits.
 */
function rowActivations(
  m: ModelConfig,
  logitPositions: number,
  attention: number,
  atLast: boolean,
): number {
  const { n_ctx: T, d_model: D, n_heads: H, d_head: E, d_mlp: M } = m;
  const mlp = !m.attn_only;
  const ln = m.normalization_type === "LN" ? 1 : 0;
  // A shortformer layer keeps its q and k input (ln1's output + W_pos) beside ln1's output.
  const qkInput = m.positional_embedding_type === "shortformer" ? T * D : 0;
  const attend = 3 * T * D + ln * T * D + 4 * T * H * E + attention + qkInput; // to resid_mid
  // ln2, the MLP's pre and post, its output and resid_post at P positions
  const tail = (P: number) => (mlp ? (2 + ln) * P * D + 2 * P * M : 0);
  const last = atLast ? tail(1) + D : tail(T); // + the last position's copy of resid_mid
  return (m.n_layers - 1) * (attend + tail(T)) + attend + last + T * D +
    logitPositions * m.d_vocab_out;
}

/**
 * Estimates the memory a run of `config` on `task` takes on `device` (see the module's count).
 *
 * @example
 * ```ts
 * import { buildTask } from "../data/mod.ts";
 * import { resolveConfig } from "./presets.ts";
 * import { estimateRunBytes } from "./memory.ts";
 * const cfg = resolveConfig("smoke", {}, "0.1.0");
 * const cpu = estimateRunBytes(cfg, buildTask(cfg.task), "cpu");
 * cpu.host < 1e9; // true: the smoke run needs tens of megabytes
 * ```
 */
export function estimateRunBytes(
  config: RunConfig,
  task: TaskData,
  device: "cpu" | "gpu",
): RunMemory {
  const { model, train } = config;
  const P = paramLayout(model).size;
  // Grokfast's EMA: one more [P] vector beside the moments, in f32 (and f64 while a CPU step runs).
  const ema = train.grokfast_lambda > 0 ? 1 : 0;
  const T = model.n_ctx;
  const trainRows = task.groups.reduce((n, g) => n + g.train.length, 0);
  const N = task.groups.reduce((n, g) => n + g.train.length + g.test.length, 0);
  const full = device === "gpu" ? alignedRows(trainRows) : trainRows; // the GPU's in whole tiles
  const B = train.batch_size > 0 ? train.batch_size : full;
  const all = task.tokens.length / T; // every example, in a split or not
  // tokens and targets of every example, of the evaluation batch and of the training batch
  const examples = 2 * (task.tokens.length + N * T + B * T) * 4;
  const mostly = (params: number, activations: number) =>
    params >= activations ? "parameters" as const : "activations" as const;
  if (device === "cpu") {
    const row = rowActivations(model, T, 0, false);
    const square = model.n_heads * T * T; // one [H, T, T] of the reference attention
    const train = (2 * row + (2 * model.n_layers + 6) * square) * B;
    const activations = Math.max(train, (row + 5 * square) * N) * 8;
    const params = (3 + ema) * P * 4 + (6 + 2 * ema) * P * 8;
    const host = params + activations + examples;
    return { params: P, host, gpu: 0, largestBuffer: 0, mostly: mostly(params, activations) };
  }
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, d_vocab_out: U } = model;
  // Logits at each example's last position, or at every position of a sequence task.
  const scoredPerRow = scoresLastOnly(task.targets, task.n_ctx) ? 1 : T;
  const atLast = tailAtLast(model, scoredPerRow === 1 ? "last" : "all");
  const row = rowActivations(model, scoredPerRow, H * T, atLast);
  const minibatch = train.batch_size > 0;
  const S = train.eval_every;
  const { rows: C, count: K } = evalChunks(task, train.batch_size);
  const chunked = K > 1 ? K * C * (T + scoredPerRow) : 0; // every chunk's examples
  const activations = (B * (2 * row + 3 * T * D) + C * row) * 4;
  const gpu = (4 + ema) * P * 4 + activations + chunked * 4 +
    (minibatch ? 2 * task.tokens.length * 4 + S * B * 8 : 0);
  // One buffer each: the weights, an activation of the bigger batch, the paths into the
  // residual, the chunks' examples, the table.
  const R = Math.max(B, C);
  const mlpPositions = atLast && model.n_layers === 1 ? 1 : T; // the widest MLP's
  const largestBuffer = 4 * Math.max(
    P,
    R * T * Math.max(D, H * E),
    model.attn_only ? 0 : R * mlpPositions * M,
    R * scoredPerRow * U,
    3 * B * T * D,
    K > 1 ? K * C * T : 0,
    minibatch ? Math.max(S * B, all * T) : 0,
  );
  const host = P * (20 + 4 * ema) + (minibatch ? S * B * 16 : 0) + examples;
  return { params: P, host, gpu, largestBuffer, mostly: mostly(4 * P * 4, activations) };
}

/** What makes a run big, in the config's words: its widths, or its batches. */
function cause(need: RunMemory, config: RunConfig, task: TaskData): string {
  const m = config.model;
  if (need.mostly === "parameters") {
    return `${need.params.toExponential(1)} parameters: n_layers ${m.n_layers}, d_model ` +
      `${m.d_model}, d_mlp ${m.d_mlp}, n_heads ${m.n_heads} × d_head ${m.d_head}`;
  }
  const b = config.train.batch_size;
  const train = task.groups.reduce((n, g) => n + g.train.length, 0);
  return `mostly activations: batch_size ${b}${b === 0 ? ` = all ${train} training rows` : ""}` +
    `, d_model ${m.d_model}, d_mlp ${m.d_mlp}`;
}

/**
 * Throws a one-line `RangeError` if a run of `config` on `task` cannot be trained here (an
 * imported model's `LNPre`) or cannot fit this machine, naming the estimate and the limit: its memory against the free memory, and on a GPU its largest buffer
 * against the adapter's cap. With no `gpu` in hand (the server, before its child picks), `auto`
 * is refused only if neither path fits.
 *
 * @example
 * ```ts
 * import { buildTask } from "../data/mod.ts";
 * import { resolveConfig } from "./presets.ts";
 * import { checkRunFits } from "./memory.ts";
 * const cfg = resolveConfig("smoke", { model: { d_mlp: 5_000_000 } }, "0.1.0");
 * try { checkRunFits(cfg, buildTask(cfg.task), { device: "cpu" }); }
 * catch (e) { (e as Error).message; }
 * // "the run needs about 170 GB of memory (mostly activations: batch_size 0 = all 264 training
 * // rows, d_model 64, d_mlp 5000000), more than the 24 GB free here"
 * ```
 */
export function checkRunFits(
  config: RunConfig,
  task: TaskData,
  where: { device: Device; gpu?: Gpu | undefined },
): void {
  if (config.model.normalization_type === "LNPre") {
    // LNPre has no LayerNorm weights to train: it is what `mechlab import` leaves after folding.
    throw new RangeError("normalization_type LNPre is an imported model's: train with LN or none");
  }
  const free = Deno.systemMemoryInfo().available;
  const paths = where.gpu !== undefined
    ? ["gpu" as const]
    : where.device === "auto"
    ? ["cpu" as const, "gpu" as const]
    : [where.device];
  // No WebGPU API reports a GPU's memory: its buffers are held to the machine's free memory,
  // which a software adapter draws on and few GPUs exceed.
  const need = paths.map((d) => estimateRunBytes(config, task, d))
    .reduce((a, b) => (Math.max(b.host, b.gpu) < Math.max(a.host, a.gpu) ? b : a));
  const what = `(${cause(need, config, task)})`;
  for (const [bytes, kind] of [[need.host, "memory"], [need.gpu, "GPU memory"]] as const) {
    if (bytes > free) {
      throw new RangeError(
        `the run needs about ${gb(bytes)} of ${kind} ${what}, more than the ${gb(free)} free here`,
      );
    }
  }
  const limits = where.gpu?.device.limits;
  const cap = limits && Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  if (cap !== undefined && need.largestBuffer > cap) {
    throw new RangeError(
      `the run needs a GPU buffer of about ${gb(need.largestBuffer)} ${what}, more than the ` +
        `${gb(cap)} this adapter allows; try --device cpu, or a smaller model or batch`,
    );
  }
}

/** Bytes as gigabytes (10⁹), two significant digits. */
function gb(bytes: number): string {
  return `${+(bytes / 1e9).toPrecision(2)} GB`;
}
