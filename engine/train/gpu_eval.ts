/**
 * The GPU trainers' evaluation (`gpu_trainer.ts` for one model, `group_trainer.ts` for G members
 * trained together): every example's loss and accuracy, summed per segment (a group's train or
 * test split), in row chunks (`evalChunks`: about a training batch each), so no buffer of the
 * evaluation is larger than the training step's. The examples of every chunk sit on the GPU,
 * chunk after chunk (`[K, G, C, T]`); an evaluation copies each chunk into one forward model's
 * inputs and runs it, and each chunk's per-segment sums (a segment cut at the chunk's edges is a
 * piece) are added on the host.
 *
 * Shape letters: K chunks, G members, C rows a chunk, T n_ctx, W targets a row (1: the last
 * position's; or T), N evaluation examples a member.
 *
 * @module
 */

import type { Dispatch, Gpu, GpuTensor } from "../gpu/mod.ts";
import { segmentSums } from "../../kernels/mod.ts";
import { IGNORE, type TaskData } from "../data/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { buildGpuModel } from "../model/gpu_model.ts";
import type { ParamLayout } from "../model/params.ts";
import type { Tensor } from "../tensor/mod.ts";
import { chunkRows, evalBatch, evalChunks, scoredTargets, segmentMetrics } from "./batches.ts";

/** An evaluation built over members' weights. */
export interface GpuEval {
  /**
   * Submits an evaluation of the weights as they are now, and the copy of its sums and of
   * `also` (read in the same wait); the returned function waits and gives each member's metrics
   * (`segmentMetrics`) and `also`'s contents.
   */
  submit(also: GpuTensor[]): () => Promise<{ metrics: Record<string, number>[]; also: Tensor[] }>;
  /** Frees the model's and the examples' buffers and the sums. */
  release(): void;
}

/** One chunk: its forward and sums, and which member's segment each of its sums is. */
interface Chunk {
  run: Dispatch[];
  sums: GpuTensor; // [pieces, 2]
  owners: [member: number, segment: number][];
}

/**
 * The evaluation of `tasks` (one a member, all as many examples; one task for a solo run) by the
 * model over `params` (G × [P]), in `evalChunks` chunks for `batchSize` (the runs'
 * `train.batch_size`), or in chunks of about `rows` examples a member where given (the tests').
 *
 * @example
 * ```ts ignore
 * const ev = await buildGpuEval(gpu, { model, layout, params, scored: "last", batchSize: 0 }, [task]);
 * const [m] = (await ev.submit([])()).metrics; // m["test/acc"]
 * ev.release();
 * ```
 */
export async function buildGpuEval(
  gpu: Gpu,
  setup: {
    model: ModelConfig;
    layout: ParamLayout;
    params: GpuTensor;
    scored: "last" | "all";
    batchSize: number;
    rows?: number;
  },
  tasks: TaskData[],
): Promise<GpuEval> {
  const { model, layout, params, scored } = setup;
  const G = tasks.length;
  const T = model.n_ctx;
  const W = scored === "last" ? 1 : T;
  const evals = tasks.map(evalBatch);
  const N = evals[0]!.batch.size;
  if (evals.some((e) => e.batch.size !== N)) {
    throw new RangeError("members of a group must have as many evaluation examples");
  }
  const K = setup.rows === undefined
    ? evalChunks(tasks[0]!, setup.batchSize).count
    : Math.ceil(N / setup.rows);
  const C = chunkRows(N, K);
  const probe = await buildGpuModel(gpu, model, layout, {
    batch: G * C,
    params,
    scored,
    members: G,
    lossOnly: true,
  });
  const owned: GpuTensor[] = [];
  const keep = (t: GpuTensor) => (owned.push(t), t);

  // Example e of member g is row e mod C of member g's share of chunk ⌊e / C⌋. Padding rows: token
  // 0, no scored position (loss and correct 0), inside the member's last piece.
  const tokens = new Int32Array(K * G * C * T); // [K, G, C, T]
  const targets = new Int32Array(K * G * C * W).fill(IGNORE); // [K, G, C, W]
  evals.forEach(({ batch }, g) => {
    const scoredRows = scoredTargets(batch.targets, T, scored);
    for (let e = 0; e < N; e++) {
      const row = (Math.floor(e / C) * G + g) * C + e % C;
      tokens.set(batch.tokens.subarray(e * T, (e + 1) * T), row * T);
      targets.set(scoredRows.subarray(e * W, (e + 1) * W), row * W);
    }
  });
  const chunks: Chunk[] = [];
  for (let k = 0; k < K; k++) {
    const bounds = [0];
    const owners: Chunk["owners"] = [];
    for (const [g, { segments }] of evals.entries()) {
      const lo = k * C;
      const hi = Math.min(N, lo + C);
      segments.forEach((s, i) => {
        const end = Math.min(s.end, hi);
        if (Math.max(s.start, lo) >= end) return;
        owners.push([g, i]);
        bounds.push((g * C + end - lo) * W);
      });
      bounds[bounds.length - 1] = (g + 1) * C * W;
    }
    const sums = keep(gpu.empty([owners.length, 2]));
    const inputs = { loss: probe.loss, correct: probe.correct! };
    const run = [...probe.forward, ...await segmentSums(gpu, inputs, sums, bounds)];
    chunks.push({ run, sums, owners });
  }
  // One chunk is written once; more are copied in, each before its run.
  const all = K === 1 ? undefined : {
    tokens: keep(gpu.upload(tokens, [K * G * C, T])),
    targets: keep(gpu.upload(targets, [K * G * C * W])),
  };
  if (all === undefined) {
    gpu.write(probe.tokens, tokens);
    gpu.write(probe.targets, targets);
  }

  return {
    submit(also) {
      for (const [k, { run }] of chunks.entries()) {
        if (all !== undefined) {
          gpu.copy(all.tokens.view(k * G * C * T, probe.tokens.shape), probe.tokens);
          gpu.copy(all.targets.view(k * G * C * W, probe.targets.shape), probe.targets);
        }
        gpu.run(run);
      }
      const copy = gpu.copyOut([...chunks.map((c) => c.sums), ...also]);
      return async () => {
        const read = await copy.done();
        const totals = evals.map((e) => new Float64Array(2 * e.segments.length));
        chunks.forEach(({ owners }, k) => {
          const part = read[k]!.data;
          owners.forEach(([g, i], j) => {
            const total = totals[g]!;
            total[2 * i] = total[2 * i]! + part[2 * j]!;
            total[2 * i + 1] = total[2 * i + 1]! + part[2 * j + 1]!;
          });
        });
        return {
          metrics: evals.map((e, g) => segmentMetrics(e.segments, totals[g]!)),
          also: read.slice(K),
        };
      };
    },
    release() {
      probe.release();
      owned.forEach((t) => t.release());
    },
  };
}
