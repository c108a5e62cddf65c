/**
 * The worker behind `GET /api/runs/NAME/sample`: opens the run's checkpoint, encodes the prompt
 * and samples, posting each token as it is drawn, so the server's thread only forwards lines.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { decode, encode } from "../data/codec.ts";
import { RunInputError } from "../runs/run_error.ts";
import { generate, openSampleModel, type SampleOptions } from "../sample/mod.ts";

/** What the endpoint sends: the run's folder, the checkpoint, the prompt and how to draw. */
export interface SampleRequest {
  path: string;
  step?: number | undefined;
  prompt: string;
  options: SampleOptions;
}

/**
 * What the worker posts: each token as drawn (`text` its label), then `done` with the whole
 * answer, or `error` with its one line and the HTTP status it deserves (400 bad input, 404 no
 * such checkpoint, 500 anything else).
 */
export type SampleEvent =
  | { kind: "token"; token: number; text: string; prob: number }
  | { kind: "done"; step: number; prompt_tokens: number[]; new_tokens: number[]; text: string }
  | { kind: "error"; status: 400 | 404 | 500; error: string };

self.onmessage = async (event: MessageEvent<SampleRequest>) => {
  const { path, step, prompt, options } = event.data;
  const post = (e: SampleEvent) => self.postMessage(e);
  let opened;
  try {
    opened = await openSampleModel(path, { step });
  } catch (e) {
    const status = e instanceof RunInputError ? 404 : 500;
    return post({ kind: "error", status, error: oneLine(e) });
  }
  const { model, vocab } = opened;
  try {
    const promptTokens = encode(vocab, prompt);
    const tokens: number[] = [];
    for await (const t of generate(model, promptTokens, options)) {
      tokens.push(t.token);
      post({ kind: "token", token: t.token, text: decode(vocab, [t.token]), prob: t.prob });
    }
    post({
      kind: "done",
      step: opened.step,
      prompt_tokens: promptTokens,
      new_tokens: tokens,
      text: decode(vocab, tokens),
    });
  } catch (e) {
    post({ kind: "error", status: e instanceof RangeError ? 400 : 500, error: oneLine(e) });
  } finally {
    model.release();
  }
};

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
