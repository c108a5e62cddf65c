/**
 * What generation reads a model through: a sequence that grows one token at a time, each push
 * answering with the logits that predict the next token. The cached sources keep each layer's
 * keys and values so a push costs O(T); the uncached ones run the whole sequence again, the
 * simple path they are tested against.
 *
 * @module
 */

/** A model fed one token at a time. */
export interface TokenModel {
  /** The most positions the sequence may hold: the model's `n_ctx`, or the fewer its caches hold. */
  readonly nCtx: number;
  /** How many tokens the sequence holds now. */
  readonly length: number;
  /**
   * Appends `token` at the next position and returns the logits `[d_vocab_out]` at it (what the
   * model predicts for the position after); a full sequence is a one-line `RangeError`. The CPU
   * sources answer at once, the GPU ones once the device has.
   */
  push(token: number): Float32Array | Promise<Float32Array>;
  /** Frees what the model holds (GPU buffers); the source is unusable after. */
  release(): void;
}

/**
 * The `RangeError` of a push past `n_ctx`, or of a token outside the input vocabulary, shared by
 * every source.
 *
 * @example
 * ```ts
 * import { checkPush } from "./source.ts";
 * checkPush({ length: 2, nCtx: 3, dVocab: 5 }, 4); // passes
 * try { checkPush({ length: 3, nCtx: 3, dVocab: 5 }, 4); } catch (e) { (e as Error).message; }
 * // "the sequence is full: n_ctx 3"
 * ```
 */
export function checkPush(
  at: { length: number; nCtx: number; dVocab: number },
  token: number,
): void {
  if (at.length >= at.nCtx) throw new RangeError(`the sequence is full: n_ctx ${at.nCtx}`);
  if (!Number.isInteger(token) || token < 0 || token >= at.dVocab) {
    throw new RangeError(`token ${token} is outside [0, d_vocab ${at.dVocab})`);
  }
}
