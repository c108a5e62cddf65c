/**
 * Many models of one shape trained in one pass on the GPU (issue 14, item 2): G members' weights,
 * gradients and AdamW moments are one flat buffer of G × [P], their full training batches one
 * batch of G × B examples, and every kernel of a step serves all members in one dispatch (the
 * products batched over members, `engine/model/gpu/context.ts`). A member's own learning rate and
 * weight decay sit in its AdamW state words, its data order (split) and initialisation are its
 * own. So the dispatches of a step do not grow with G, and each member's result is its solo
 * `trainOnGpu` run's to float rounding (the sums of its rows run in another order).
 *
 * What a group takes (`groupRefusal`): full-batch training without clipping or Grokfast, no
 * LayerNorm, n_ctx = the task's positions; the grokking and smoke presets' shapes. Other members
 * train one after another.
 *
 * @module
 */

import { type Dispatch, type Gpu, type GpuTensor, releaseDispatches } from "../gpu/mod.ts";
import { adamw, ADAMW_STATE_SIZE, readAdamWState } from "../../kernels/mod.ts";
import { scoresLastOnly, type TaskData } from "../data/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { buildGpuModel } from "../model/gpu_model.ts";
import type { ParamLayout } from "../model/params.ts";
import { Tensor } from "../tensor/mod.ts";
import { adamwSettings, grokfastSettings, type TrainConfig } from "./config.ts";
import { type Batch, gpuTrainBatch, scoredTargets } from "./batches.ts";
import { buildGpuEval } from "./gpu_eval.ts";
import type { TrainHooks, TrainState } from "./state.ts";
import { runGpuLoop } from "./gpu_loop.ts";

/** One member: its task (its split), its training settings (its lr and weight decay), its start. */
export interface GroupMember {
  task: TaskData;
  train: TrainConfig;
  state: TrainState;
  hooks: Omit<TrainHooks, "shouldStop">;
}

/**
 * Why `train` cannot join a group, or undefined when it can: one line.
 *
 * @example
 * ```ts
 * import { groupRefusal } from "./group_trainer.ts";
 * import { DEFAULT_TRAIN } from "./config.ts";
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * groupRefusal(DEFAULT_MODEL, { ...DEFAULT_TRAIN, batch_size: 64 }); // "minibatches (--batch-size 64)"
 * ```
 */
export function groupRefusal(model: ModelConfig, train: TrainConfig): string | undefined {
  if (train.batch_size > 0) return `minibatches (--batch-size ${train.batch_size})`;
  if (train.grad_clip > 0) return `gradient clipping (--grad-clip ${train.grad_clip})`;
  if (grokfastSettings(train)) return "Grokfast";
  if (model.normalization_type !== null) return `LayerNorm (${model.normalization_type})`;
  return undefined;
}

/**
 * The settings members must share to train together: the model but its seed (which only sets the
 * initialisation), `train` but lr and weight_decay, and the task but its data_seed (which only
 * sets the split). Two members with the same key train as one group.
 *
 * @example
 * ```ts
 * import { groupKey } from "./group_trainer.ts";
 * import { DEFAULT_TRAIN } from "./config.ts";
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * const a = { model: DEFAULT_MODEL, train: DEFAULT_TRAIN };
 * groupKey(a) === groupKey({ ...a, model: { ...DEFAULT_MODEL, seed: 7 } }); // true
 * ```
 */
export function groupKey(
  config: { model: ModelConfig; train: TrainConfig; task?: object },
): string {
  const { seed: _seed, ...shape } = config.model;
  const { lr: _lr, weight_decay: _wd, ...shared } = config.train;
  const { data_seed: _ds, ...task } = (config.task ?? {}) as { data_seed?: number };
  return JSON.stringify({ shape, shared, task });
}

/** `batches` one after another: `[G·B, ...]` tokens, targets (scored) and weights. */
function concat(batches: Batch[], scored: (targets: Int32Array) => Int32Array) {
  const cat = <A extends Int32Array | Float32Array>(parts: A[], make: (n: number) => A) => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), at += p.length);
    return out;
  };
  return {
    tokens: cat(batches.map((b) => b.tokens), (n) => new Int32Array(n)),
    targets: cat(batches.map((b) => scored(b.targets)), (n) => new Int32Array(n)),
    weights: cat(batches.map((b) => b.weights), (n) => new Float32Array(n)),
  };
}

/** A group's training step, built over its members' weights, moments and full batches. */
export interface GroupStep {
  /** `[G·P]`: every member's weights, then AdamW's moments, one member after another. */
  params: GpuTensor;
  m: GpuTensor;
  v: GpuTensor;
  /** AdamW's words, `[G, 8]` (`[8]` for one member): member g's lr and weight decay in 6 and 7. */
  state: GpuTensor;
  /** Forward, backward and AdamW of every member: one run of it is one step of each. */
  step: Dispatch[];
  /** Which positions have a loss. */
  scored: "last" | "all";
  /** Frees the buffers and the step's dispatches. */
  release(): void;
}

/**
 * The training step of `members` (one shape, `groupKey` equal, all at the same step) on `gpu`:
 * their states uploaded, their full batches written, one step's dispatches for all of them. One
 * member's step is its solo `trainOnGpu` step's dispatches (the same kernels over the same
 * buffers; `bench/sweep_bench.ts` times both this way).
 *
 * @example
 * ```ts ignore
 * const built = await buildGroupStep(gpu, { model, layout }, members);
 * gpu.run(built.step, { repeat: 10 }); // ten steps of every member
 * built.release();
 * ```
 */
export async function buildGroupStep(
  gpu: Gpu,
  setup: { model: ModelConfig; layout: ParamLayout },
  members: Pick<GroupMember, "task" | "train" | "state">[],
): Promise<GroupStep> {
  const { model, layout } = setup;
  const G = members.length;
  const P = layout.size;
  const first = members[0]!;
  const train = first.train;
  const refusal = groupRefusal(model, train);
  if (refusal !== undefined) throw new RangeError(`members cannot train together: ${refusal}`);
  for (const m of members) {
    if (
      groupKey({ model, train: m.train }) !== groupKey({ model, train }) ||
      m.state.step !== first.state.step
    ) {
      throw new RangeError("members of a group must share their settings and their step");
    }
  }
  const owned: GpuTensor[] = [];
  const keep = (t: GpuTensor) => (owned.push(t), t);
  const stack = (part: (m: Pick<GroupMember, "state">) => Float32Array) => {
    const out = new Float32Array(G * P);
    members.forEach((m, g) => out.set(part(m), g * P));
    return out;
  };
  const params = keep(gpu.upload(stack((m) => m.state.params), [G * P]));
  const grads = keep(gpu.zeros([G * P]));
  const mm = keep(gpu.upload(stack((m) => m.state.m), [G * P]));
  const vv = keep(gpu.upload(stack((m) => m.state.v), [G * P]));
  // Each member's AdamW words, its own lr and weight decay in words 6 and 7 (f32 bits).
  const words = new Int32Array(G * ADAMW_STATE_SIZE);
  const bits = new Float32Array(words.buffer);
  members.forEach((m, g) => {
    words.set(m.state.optimizer, g * ADAMW_STATE_SIZE);
    bits[g * ADAMW_STATE_SIZE + 6] = m.train.lr;
    bits[g * ADAMW_STATE_SIZE + 7] = m.train.weight_decay;
  });
  const state = keep(gpu.upload(words, G === 1 ? [ADAMW_STATE_SIZE] : [G, ADAMW_STATE_SIZE]));

  const T = first.task.n_ctx;
  const scored = scoresLastOnly(first.task.targets, T) ? "last" : "all";
  const batches = members.map((m) => gpuTrainBatch(m.task));
  const B = batches[0]!.size;
  if (batches.some((b) => b.size !== B)) {
    throw new RangeError("members of a group must have as many training examples");
  }
  const fit = await buildGpuModel(gpu, model, layout, {
    batch: G * B,
    params,
    grads,
    scored,
    members: G,
    lossOnly: true,
  });
  const data = concat(batches, (t) => scoredTargets(t, T, scored));
  gpu.write(fit.tokens, data.tokens);
  gpu.write(fit.targets, data.targets);
  gpu.write(fit.rowWeights!, data.weights);
  const optimizer = await adamw(
    gpu,
    { params, grads, m: mm, v: vv, state },
    adamwSettings(train),
    G,
  );
  return {
    params,
    m: mm,
    v: vv,
    state,
    step: [...fit.forward, ...fit.backward, ...optimizer],
    scored,
    release: () => {
      releaseDispatches(optimizer);
      fit.release();
      owned.forEach((t) => t.release());
    },
  };
}

/**
 * Trains `members` (one shape, `groupKey` equal, all at the same step) together from their states
 * to `train.steps` (the first member's settings but lr and weight decay), each member's
 * evaluations and checkpoints to its own hooks at the steps its solo run has them.
 *
 * @example
 * ```ts ignore
 * await trainGroupOnGpu(gpu, { model, layout }, members, { shouldStop: () => false });
 * ```
 */
export async function trainGroupOnGpu(
  gpu: Gpu,
  setup: { model: ModelConfig; layout: ParamLayout },
  members: GroupMember[],
  control: Pick<TrainHooks, "shouldStop">,
): Promise<void> {
  const { model, layout } = setup;
  const G = members.length;
  const P = layout.size;
  const train = members[0]!.train;
  const start = members[0]!.state.step;
  const built = await buildGroupStep(gpu, setup, members);
  const { params, m: mm, v: vv, state, step, scored } = built;
  const scoring = { model, layout, params, scored, batchSize: train.batch_size } as const;
  const evaluation = await buildGpuEval(gpu, scoring, members.map((m) => m.task));

  /** Submits an evaluation and its copy; the returned function waits and records each member's. */
  const evaluateAt = (at: number) => {
    const wait = evaluation.submit([state]);
    return async () => {
      const { metrics, also: [st] } = await wait();
      for (const [g, m] of members.entries()) {
        const o = g * ADAMW_STATE_SIZE;
        const words = new Tensor(st!.data.slice(o, o + ADAMW_STATE_SIZE), [ADAMW_STATE_SIZE]);
        const lr = at === 0 ? 0 : readAdamWState(words).lr;
        await m.hooks.onMetrics(at, { lr, ...metrics[g]! });
      }
    };
  };
  const checkpoint = async (at: number, final: boolean) => {
    const [p, m1, v1, st] = await gpu.read([params, mm, vv, state]);
    const all = new Int32Array(st!.data.buffer, st!.data.byteOffset, G * ADAMW_STATE_SIZE);
    for (const [g, m] of members.entries()) {
      const words = all.slice(g * ADAMW_STATE_SIZE, (g + 1) * ADAMW_STATE_SIZE);
      words.fill(0, 6); // a solo run's words 6 and 7 are unused (0)
      const slice = (t: Tensor) => (t.data as Float32Array).slice(g * P, (g + 1) * P);
      await m.hooks.onCheckpoint({
        step: at,
        params: slice(p!),
        m: slice(m1!),
        v: slice(v1!),
        optimizer: words,
      }, final);
    }
  };

  try {
    const loop = { step, evaluate: evaluateAt, checkpoint };
    await runGpuLoop(gpu, train, start, loop, () => control.shouldStop());
  } finally {
    built.release();
    evaluation.release();
  }
}
