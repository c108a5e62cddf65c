/**
 * The step loop both GPU trainers run (`gpu_trainer.ts` for one model, `group_trainer.ts` for
 * members trained together): chunks of steps up to the next evaluation or checkpoint in one submit
 * each, every evaluation's read overlapping the next chunk, checkpoints read back in between, and
 * the last step evaluated and checkpointed also when stopped early.
 *
 * @module
 */

import type { Dispatch, Gpu } from "../gpu/mod.ts";
import type { TrainConfig } from "./config.ts";
import { nextBoundary } from "./state.ts";

/** What a trainer gives the loop: its step and how it evaluates and checkpoints. */
export interface GpuLoop {
  /** One training step's dispatches. */
  step: Dispatch[];
  /** Before steps `from .. to - 1` are submitted (a minibatch table's refill); optional. */
  before?: (from: number, to: number) => void;
  /** Submits an evaluation at step `at`; the returned function waits for it and records it. */
  evaluate(at: number): () => Promise<void>;
  /** Reads the state at step `at` back and hands it on (`final` at the end). */
  checkpoint(at: number, final: boolean): Promise<void>;
}

/**
 * Runs `loop` from step `start` to `train.steps`, or until `shouldStop` says so before a chunk:
 * an evaluation at step 0 of a fresh run, at every multiple of `eval_every` and at the last step;
 * a checkpoint at every multiple of `checkpoint_every` before the end and a final one at the end
 * (when any step ran, or the run is fresh).
 *
 * @example
 * ```ts ignore
 * await runGpuLoop(gpu, train, state.step, { step, evaluate, checkpoint }, () => false);
 * ```
 */
export async function runGpuLoop(
  gpu: Gpu,
  train: Pick<TrainConfig, "steps" | "eval_every" | "checkpoint_every">,
  start: number,
  loop: GpuLoop,
  shouldStop: () => boolean,
): Promise<void> {
  /** Records `a` then `b` (either may be absent). */
  const chain = (a: (() => Promise<void>) | undefined, b: () => Promise<void>) => async () => {
    await a?.();
    await b();
  };
  let at = start;
  let pending = at === 0 ? loop.evaluate(0) : undefined;
  let evaluated = at;
  while (at < train.steps && !shouldStop()) {
    const next = nextBoundary(at, train);
    loop.before?.(at, next);
    gpu.run(loop.step, { repeat: next - at });
    at = next;
    if (at % train.eval_every === 0 || at === train.steps) {
      const record = loop.evaluate(at);
      // The GPU runs these steps while the previous evaluation's sums are read.
      await pending?.();
      pending = record;
      evaluated = at;
    }
    if (at % train.checkpoint_every === 0 && at < train.steps) {
      await pending?.();
      pending = undefined;
      await loop.checkpoint(at, false);
    }
  }
  // Stopped between evaluations: the last line of metrics.jsonl must be the final checkpoint's.
  if (evaluated !== at) pending = chain(pending, loop.evaluate(at));
  await pending?.();
  if (at > start || at === 0) await loop.checkpoint(at, true);
}
