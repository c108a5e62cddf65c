/**
 * The sequence an on-demand sequence view looks at: one of the task's examples, token ids, or a
 * prompt (text read by `engine/data/codec.ts`, as generation reads it), with the target of each position (the task's, or
 * the prompt's next token). Every bad input is a one-line `SequenceInputError`.
 *
 * Shape letters: N examples, T positions (at most n_ctx).
 *
 * @module
 */

import { decode, encode } from "../data/codec.ts";
import { IGNORE, type TaskConfig, type TaskData, taskShape, type Vocab } from "../data/mod.ts";
import { RunInputError } from "../runs/mod.ts";
import type { CheckpointedRun } from "./run_data.ts";

/**
 * A sequence request that cannot be served (a bad example, token, prompt, position or target): the
 * request's fault, where a `RunInputError` is the run folder's (the server answers 400, not 422).
 *
 * @example
 * ```ts
 * import { SequenceInputError } from "./sequence_input.ts";
 * new SequenceInputError("pos 9: the sequence has 8 positions (0 to 7)").name; // "SequenceInputError"
 * ```
 */
export class SequenceInputError extends RunInputError {
  override name = "SequenceInputError";
}

/** Which sequence: exactly one of the three. */
export interface SequenceInput {
  /** An index into the task's examples. */
  example?: number;
  /** Token ids. */
  tokens?: readonly number[];
  /** Text, read by the codec (`encode`). */
  prompt?: string;
}

/** A sequence ready to run. */
export interface ResolvedSequence {
  /** The task's example, or `null` for tokens or a prompt. */
  example: number | null;
  /** `[T]` */
  ids: Int32Array;
  /** `[T]`: the task's targets of the example, else the next token; `IGNORE` where unknown. */
  targets: Int32Array;
  /** Where `targets` came from. */
  from: "task" | "next token";
}

/**
 * What a sequence is resolved against: the vocabulary and the context, and the task's examples
 * (`[N, n_ctx]`; none where only prompts are asked for, so that a run's data need not be at hand).
 */
export type SequenceTask = Pick<TaskData, "vocab" | "n_ctx" | "tokens" | "targets">;

/** A run opened for the sequence views: its checkpoints, and its task as far as they need it. */
export type SequenceRun = CheckpointedRun & { task: SequenceTask };

/**
 * A run's task without its examples, from its config alone (`taskShape`: a text run names its
 * characters), for prompts and token ids.
 *
 * @example
 * ```ts
 * import { DEFAULT_TASKS } from "../data/mod.ts";
 * import { promptTask } from "./sequence_input.ts";
 * promptTask({ ...DEFAULT_TASKS.text, vocab: "ab", data: "gone.txt" }).tokens.length; // 0
 * ```
 */
export function promptTask(task: TaskConfig): SequenceTask {
  const { vocab, n_ctx } = taskShape(task);
  return { vocab, n_ctx, tokens: new Int32Array(0), targets: new Int32Array(0) };
}

/**
 * Each token's text (`decode` of the one token), as the views label them.
 *
 * @example
 * ```ts
 * import { tokenTexts } from "./sequence_input.ts";
 * tokenTexts({ labels: ["a", "b"] }, Int32Array.of(1, 0)); // ["b", "a"]
 * ```
 */
export function tokenTexts(
  vocab: Pick<Vocab, "labels" | "tokenizer">,
  ids: ArrayLike<number>,
): string[] {
  return Array.from(ids, (t) => decode(vocab, [t]));
}

/**
 * The sequence `input` names in `task`, checked: an example in range, ids in `[0, d_vocab)`, 1 to
 * `n_ctx` tokens. An example's targets are the task's row (`[N, n_ctx]`; a task with one target
 * per example scores its last position only); a prompt's are its next tokens, the last unknown.
 *
 * @example
 * ```ts ignore
 * const s = resolveSequence(task, { prompt: "abca" });
 * s.targets; // [b, c, a, IGNORE]
 * ```
 */
export function resolveSequence(task: SequenceTask, input: SequenceInput): ResolvedSequence {
  const given = [input.example, input.tokens, input.prompt].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new SequenceInputError("give one of example, tokens or prompt");
  }
  const T = task.n_ctx;
  const N = task.tokens.length / T;
  if (input.example !== undefined) {
    const n = input.example;
    if (!Number.isInteger(n) || n < 0 || n >= N) {
      throw new SequenceInputError(`example ${n}: the task has ${N} (0 to ${N - 1})`);
    }
    const ids = task.tokens.slice(n * T, (n + 1) * T);
    return { example: n, ids, targets: exampleTargets(task, n), from: "task" };
  }
  const ids = input.tokens !== undefined
    ? Int32Array.from(input.tokens)
    : Int32Array.from(encodeText(task.vocab, input.prompt!, "prompt"));
  if (ids.length < 1 || ids.length > T) {
    throw new SequenceInputError(
      `the sequence has ${ids.length} tokens; the model takes 1 to ${T}`,
    );
  }
  const bad = ids.findIndex((t) => !(t >= 0 && t < task.vocab.d_vocab));
  if (bad >= 0) {
    throw new SequenceInputError(
      `token ${ids[bad]} is outside the vocabulary [0, ${task.vocab.d_vocab})`,
    );
  }
  const out = task.vocab.d_vocab_out;
  const targets = Int32Array.from(ids, (_, t) => {
    const next = ids[t + 1];
    return next !== undefined && next < out ? next : IGNORE;
  });
  return { example: null, ids, targets, from: "next token" };
}

/**
 * `[T]`: example `n`'s targets, its row of `task.targets` `[N, n_ctx]`.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { exampleTargets } from "./sequence_input.ts";
 * exampleTargets(modularTask({ op: "add", p: 5, frac_train: 0.5, data_seed: 0 }), 7);
 * // Int32Array [-1, -1, 3]: (1 + 2) mod 5 at the last position
 * ```
 */
export function exampleTargets(task: SequenceTask, n: number): Int32Array {
  const T = task.n_ctx;
  return task.targets.slice(n * T, (n + 1) * T);
}

/**
 * `text` as token ids (`encode`, the codec every prompt goes through), a text it cannot spell a
 * `SequenceInputError` naming `what`. `prependBos: false` for an answer token (a tokenizer's
 * vocabulary otherwise puts BOS first).
 *
 * @example
 * ```ts
 * import { encodeText } from "./sequence_input.ts";
 * encodeText({ labels: ["a", "b"] }, "ab", "prompt"); // [0, 1]
 * ```
 */
export function encodeText(
  vocab: Pick<Vocab, "labels" | "tokenizer">,
  text: string,
  what: string,
  options: { prependBos?: boolean } = {},
): number[] {
  try {
    return encode(vocab, text, options);
  } catch (e) {
    if (e instanceof RangeError) throw new SequenceInputError(`${what}: ${e.message}`);
    throw e;
  }
}
