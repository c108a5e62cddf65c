/**
 * Generation: feed a prompt to a `TokenModel`, then draw each new token from the logits at the
 * last position (temperature 0: the argmax; else temperature, top-k and top-p, then a seeded
 * categorical draw, `engine/tensor/sample.ts`) and feed it back. The same seed gives the same
 * tokens.
 *
 * @module
 */

import { Rng } from "../tensor/random.ts";
import { argmax } from "../tensor/reduce.ts";
import { sampleLogits } from "../tensor/sample.ts";
import { softmax } from "../tensor/softmax.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { TokenModel } from "./source.ts";

/** How to draw the new tokens. */
export interface SampleOptions {
  /** How many tokens to draw, at least 1. */
  maxNewTokens: number;
  /** 0: greedy (the argmax, lowest index on ties); > 0 divides the logits. */
  temperature: number;
  /** Keep only the `topK` most likely tokens (after the temperature). */
  topK?: number | undefined;
  /** Keep only the nucleus of probability mass `topP` in (0, 1]. */
  topP?: number | undefined;
  /** Seeds the draws. */
  seed: number;
}

/** One drawn token. */
export interface SampledToken {
  token: number;
  /** The model's probability of it: softmax of the raw logits (before temperature and filters). */
  prob: number;
  /** `[d_vocab_out]`: the logits it was drawn from. */
  logits: Float32Array;
}

/**
 * The one-line `RangeError` for options `generate` refuses, or nothing.
 *
 * @example
 * ```ts
 * import { checkSampleOptions } from "./generate.ts";
 * checkSampleOptions({ maxNewTokens: 4, temperature: 0, seed: 0 }, { promptLength: 2, nCtx: 8 });
 * ```
 */
export function checkSampleOptions(
  o: SampleOptions,
  at: { promptLength: number; nCtx: number },
): void {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) {
    throw new RangeError(`max new tokens ${o.maxNewTokens}: expected a positive integer`);
  }
  if (!(o.temperature >= 0 && o.temperature < Infinity)) {
    throw new RangeError(`temperature ${o.temperature}: expected a number >= 0`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) {
    throw new RangeError(`top-k ${o.topK}: expected an integer >= 1`);
  }
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) {
    throw new RangeError(`top-p ${o.topP}: expected a number in (0, 1]`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed ${o.seed}: expected an integer`);
  if (at.promptLength < 1) throw new RangeError("the prompt is empty: give at least one token");
  // The last new token is only predicted, never read: the model sees prompt + new - 1 positions.
  if (at.promptLength + o.maxNewTokens - 1 > at.nCtx) {
    throw new RangeError(
      `a prompt of ${count(at.promptLength, "token")} and ${
        count(o.maxNewTokens, "new token")
      } needs ${at.promptLength + o.maxNewTokens - 1} positions, more than n_ctx ${at.nCtx}`,
    );
  }
}

/** "1 token", "3 tokens". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * Feeds `prompt` to `model` and yields `options.maxNewTokens` new tokens, each fed back before the
 * next is drawn. The model reads the prompt and every new token but the last, which must fit in
 * `n_ctx` (no sliding window): `3 5 =` and one new token fit modular arithmetic's n_ctx of 3.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout } from "../model/params.ts";
 * import { CpuCachedModel } from "./cpu_cached.ts";
 * import { generate } from "./generate.ts";
 * const cfg = { ...DEFAULT_MODEL, n_ctx: 8 };
 * const layout = paramLayout(cfg);
 * const model = new CpuCachedModel(cfg, layout, initParams(cfg, layout));
 * for await (const { token, prob } of generate(model, [3, 5, 113], { maxNewTokens: 2, temperature: 0, seed: 0 })) {
 *   console.log(token, prob);
 * }
 * ```
 */
export async function* generate(
  model: TokenModel,
  prompt: ArrayLike<number>,
  options: SampleOptions,
): AsyncGenerator<SampledToken> {
  checkSampleOptions(options, { promptLength: prompt.length, nCtx: model.nCtx });
  const rng = new Rng(options.seed);
  let logits: Float32Array = new Float32Array(0);
  for (let i = 0; i < prompt.length; i++) logits = await model.push(prompt[i]!);
  for (let i = 0; i < options.maxNewTokens; i++) {
    const token = pickToken(logits, options, rng);
    yield { token, prob: probabilityOf(logits, token), logits };
    if (i + 1 < options.maxNewTokens) logits = await model.push(token);
  }
}

/**
 * The token drawn from `logits [U]`: the argmax at temperature 0, else a draw from `rng` after
 * temperature, top-k and top-p.
 *
 * @example
 * ```ts
 * import { Rng } from "../tensor/random.ts";
 * import { pickToken } from "./generate.ts";
 * pickToken(new Float32Array([1, 3, 3]), { temperature: 0 }, new Rng(0)); // 1
 * pickToken(new Float32Array([1, 3, 2]), { temperature: 1, topK: 1 }, new Rng(0)); // 1
 * ```
 */
export function pickToken(
  logits: Float32Array,
  options: Pick<SampleOptions, "temperature" | "topK" | "topP">,
  rng: Rng,
): number {
  const x = new Tensor(Float64Array.from(logits), [logits.length]);
  if (options.temperature === 0) return argmax(x).data[0]!;
  return sampleLogits(x, {
    temperature: options.temperature,
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    rng,
  })[0]!;
}

/**
 * `softmax(logits)[token]`, in f64.
 *
 * @example
 * ```ts
 * import { probabilityOf } from "./generate.ts";
 * probabilityOf(new Float32Array([0, Math.log(3)]), 1); // 0.75
 * ```
 */
export function probabilityOf(logits: Float32Array, token: number): number {
  return softmax(new Tensor(Float64Array.from(logits), [logits.length])).data[token]!;
}
