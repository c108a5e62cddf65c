/**
 * The sequence an on-demand sequence view looks at: one of the task's examples, token ids, or a
 * prompt written with the vocabulary's labels, with the target of each position (the task's, or
 * the prompt's next token). Every bad input is a one-line `SequenceInputError`.
 *
 * Shape letters: N examples, T positions (at most n_ctx).
 *
 * @module
 */

import { IGNORE, type TaskData } from "../data/mod.ts";
import { RunInputError } from "../runs/mod.ts";

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
  /** Text made of the vocabulary's labels (`tokenizeLabels`). */
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
 * `text` as token ids, reading at each point the longest vocabulary label that matches (so "10"
 * is one token where "10" is a label); a point where none does is a `SequenceInputError` naming it.
 *
 * @example
 * ```ts
 * import { tokenizeLabels } from "./sequence_input.ts";
 * tokenizeLabels(["(", ")", "<end>"], "(()<end>"); // Int32Array [0, 0, 1, 2]
 * ```
 */
export function tokenizeLabels(labels: readonly string[], text: string): Int32Array {
  const byLength = labels.map((label, id) => ({ label, id })).filter((l) => l.label !== "")
    .sort((a, b) => b.label.length - a.label.length || a.id - b.id);
  const ids: number[] = [];
  for (let at = 0; at < text.length;) {
    const hit = byLength.find((l) => text.startsWith(l.label, at));
    if (hit === undefined) {
      throw new SequenceInputError(
        `prompt: no token of the vocabulary starts at character ${at} (${
          JSON.stringify(text.slice(at, at + 10))
        })`,
      );
    }
    ids.push(hit.id);
    at += hit.label.length;
  }
  return Int32Array.from(ids);
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
export function resolveSequence(task: TaskData, input: SequenceInput): ResolvedSequence {
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
    : tokenizeLabels(task.vocab.labels, input.prompt!);
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
export function exampleTargets(task: TaskData, n: number): Int32Array {
  const T = task.n_ctx;
  return task.targets.slice(n * T, (n + 1) * T);
}
