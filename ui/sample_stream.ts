/**
 * The prompt box's state and its client of `GET /api/runs/NAME/sample`: the NDJSON stream read
 * chunk by chunk, each token line appended to `sampled` as it arrives (`splitLines` is the pure
 * part), the final line ending the stream, an error answer's one line kept in `sampleError`.
 *
 * @module
 */

import { signal } from "@preact/signals";

/** One streamed token: its id, its text and the model's probability of it. */
export interface SampledToken {
  token: number;
  text: string;
  prob: number;
}

/** The prompt box's fields. */
export const samplePrompt = signal("");
export const sampleNewTokens = signal(16);
export const sampleTemperature = signal(0);
export const sampleSeed = signal(0);
/** The tokens streamed so far for the last prompt sent. */
export const sampled = signal<SampledToken[]>([]);
/** Whether a stream is being read. */
export const sampling = signal(false);
/** The last request's one-line error, or "". */
export const sampleError = signal("");

/**
 * The complete lines of `buffered + chunk`, and what is left after the last newline.
 *
 * @example
 * ```ts
 * import { splitLines } from "./sample_stream.ts";
 * splitLines('{"a":1}\n{"b"', ":2}"); // { lines: ['{"a":1}'], rest: '{"b":2}' }
 * ```
 */
export function splitLines(buffered: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (buffered + chunk).split("\n");
  const rest = parts.pop()!;
  return { lines: parts.filter((l) => l !== ""), rest };
}

let controller: AbortController | undefined;

/**
 * Samples a continuation of `samplePrompt` from `run` at checkpoint `step`, streaming the tokens
 * into `sampled`; a new call cancels the one before.
 *
 * @example
 * ```ts ignore
 * samplePrompt.value = "3 5 =";
 * await startSample("modular_add_23", 1500);
 * sampled.value.map((t) => t.text); // ["8"]
 * ```
 */
export async function startSample(run: string, step: number | null): Promise<void> {
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  sampled.value = [];
  sampleError.value = "";
  sampling.value = true;
  const query = new URLSearchParams({
    prompt: samplePrompt.value,
    max_new_tokens: String(sampleNewTokens.value),
    temperature: String(sampleTemperature.value),
    seed: String(sampleSeed.value),
    ...(step === null ? {} : { step: String(step) }),
  });
  try {
    const res = await fetch(`/api/runs/${encodeURIComponent(run)}/sample?${query}`, {
      credentials: "same-origin",
      signal: mine.signal,
    });
    if (!res.ok || res.body === null) {
      const body = await res.json().catch(() => null) as { error?: string } | null;
      sampleError.value = body?.error ?? `HTTP ${res.status}`;
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      const split = splitLines(rest, value);
      rest = split.rest;
      for (const line of split.lines) {
        const event = JSON.parse(line) as SampledToken & { done?: true; error?: string };
        if (event.error !== undefined) sampleError.value = event.error;
        else if (event.done === undefined) sampled.value = [...sampled.value, event];
      }
    }
  } catch (e) {
    if (!mine.signal.aborted) sampleError.value = (e as Error).message;
  } finally {
    if (controller === mine) sampling.value = false;
  }
}
