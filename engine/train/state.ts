/**
 * What both training loops (GPU and CPU) share with their caller: the state a run resumes from,
 * and the hooks through which it reports metrics and checkpoints and is asked to stop.
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";

/** Everything a run resumes from: the weights, AdamW's moments and its step state. */
export interface TrainState {
  step: number;
  /** `[P]` flat weights. */
  params: Float32Array;
  /** `[P]` AdamW's first and second moments; zeros at the start. */
  m: Float32Array;
  v: Float32Array;
  /** AdamW's state words (`ADAMW_STATE_SIZE`): word 0 the step count t, word 1 the last lr. */
  optimizer: Int32Array;
  /** `[P]` Grokfast's EMA of the gradients when it is on (`grokfast_lambda` > 0), else absent. */
  ema?: Float32Array;
}

/** What a loop tells its caller, and asks it. */
export interface TrainHooks {
  /** Each evaluation: `step`, `lr`, and the task's metrics (`train/loss`, `test/acc`, ...). */
  onMetrics(step: number, metrics: Record<string, number>): Promise<void> | void;
  /** Each checkpoint step, and the last step (also on a stop). */
  onCheckpoint(state: TrainState, final: boolean): Promise<void> | void;
  /**
   * Asked before each step (the CPU) or each submit of steps (the GPU): true ends the run there
   * (Ctrl-C), with a final checkpoint at that step.
   */
  shouldStop(): boolean;
}

/**
 * A function to await between steps of a loop that computes on this thread: it lets the event
 * loop turn (a signal listener run, a timer fire) once `ms` of computing have passed since the
 * last turn, and returns at once otherwise. Without it a CPU run sees Ctrl-C only at its next
 * evaluation, whose file writes are its first awaits in minutes.
 *
 * @example
 * ```ts
 * import { eventLoopTurns } from "./state.ts";
 * const turn = eventLoopTurns(50);
 * for (let step = 0; step < 3; step++) await turn();
 * ```
 */
export function eventLoopTurns(ms: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < ms) return;
    // A timer, not a microtask: only a macrotask lets the event loop poll signals and I/O.
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}

/**
 * Where a loop stops next: the next evaluation (a multiple of `eval_every`), the next checkpoint
 * (a multiple of `checkpoint_every`) or the last step, whichever comes first.
 *
 * @example
 * ```ts
 * import { nextBoundary } from "./state.ts";
 * nextBoundary(3, { steps: 20, eval_every: 3, checkpoint_every: 5 }); // 5
 * ```
 */
export function nextBoundary(
  at: number,
  train: Pick<TrainConfig, "steps" | "eval_every" | "checkpoint_every">,
): number {
  const after = (n: number) => (Math.floor(at / n) + 1) * n;
  return Math.min(train.steps, after(train.eval_every), after(train.checkpoint_every));
}

/**
 * A fresh run's state: the given weights, zero moments (and a zero Grokfast EMA when `grokfast`),
 * step 0.
 *
 * @example
 * ```ts
 * import { freshState } from "./state.ts";
 * freshState(new Float32Array(4)).step; // 0
 * freshState(new Float32Array(4), { grokfast: true }).ema?.length; // 4
 * ```
 */
export function freshState(params: Float32Array, options: { grokfast?: boolean } = {}): TrainState {
  const state: TrainState = {
    step: 0,
    params,
    m: new Float32Array(params.length),
    v: new Float32Array(params.length),
    optimizer: new Int32Array(8),
  };
  if (options.grokfast) state.ema = new Float32Array(params.length);
  return state;
}
