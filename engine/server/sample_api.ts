/**
 * The sample endpoint: `GET /api/runs/NAME/sample?prompt=TEXT[&max_new_tokens=N][&temperature=T]
 * [&top_k=K][&top_p=P][&seed=S][&step=S]` continues the prompt with the run's model (the last
 * checkpoint, or step S) and streams NDJSON: one line per token as it is drawn,
 * `{"token", "text", "prob"}` (`prob` the model's softmax probability of it), then
 * `{"done": true, "step", "prompt_tokens", "new_tokens", "text"}`. Sampling runs in a Worker
 * (`sample_worker.ts`), never on the server's thread; a client that goes away stops it.
 *
 * Defaults: 16 new tokens, temperature 0 (greedy), seed 0. Before the first line, a bad request
 * (a missing prompt, a number that is not one, a prompt the vocabulary cannot spell, more tokens
 * than n_ctx) is a 400 with the reason, a step without a checkpoint a 404, and a third sampler
 * at once a 429. A failure after the first line ends the stream with `{"error": "..."}`.
 *
 * @module
 */

import { wholeNumber } from "./analysis_api.ts";
import { errorResponse, HttpError } from "./http.ts";
import { findRun, type RunsApi } from "./runs_api.ts";
import type { SampleEvent, SampleRequest } from "./sample_worker.ts";

/** Samplers at once, over all runs: each is a worker busy on a core. */
const MAX_SAMPLERS = 2;
const DEFAULT_NEW_TOKENS = 16;
let running = 0;

/**
 * `GET /api/runs/NAME/sample?prompt=...`: the NDJSON stream of the continuation.
 *
 * @example
 * ```ts ignore
 * const res = await runSample(api, "smoke", new URLSearchParams("prompt=3 5 =&max_new_tokens=1"));
 * await res.text(); // '{"token":8,"text":"8","prob":0.99}\n{"done":true,...}\n'
 * ```
 */
export async function runSample(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
): Promise<Response> {
  const request = { path: (await findRun(api, name)).path, ...parseQuery(query) };
  if (running >= MAX_SAMPLERS) {
    throw new HttpError(429, `${MAX_SAMPLERS} samplers are running; wait for one to finish`);
  }
  running++;
  const worker = new Worker(new URL("./sample_worker.ts", import.meta.url).href, {
    type: "module",
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    worker.terminate();
    running--;
  };
  const events = channel<SampleEvent>();
  worker.onmessage = (e: MessageEvent<SampleEvent>) => events.put(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    events.put({ kind: "error", status: 500, error: e.message });
  };
  worker.postMessage(request satisfies SampleRequest);
  const first = await events.take();
  if (first.kind === "error") {
    end();
    return errorResponse(first.status, first.error);
  }
  const encoder = new TextEncoder();
  let next: SampleEvent | undefined = first;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const event = next ?? await events.take();
      next = undefined;
      controller.enqueue(encoder.encode(JSON.stringify(line(event)) + "\n"));
      if (event.kind !== "token") {
        end();
        controller.close();
      }
    },
    cancel: end,
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/x-ndjson; charset=utf-8" },
  });
}

/** The worker's request from the query; a missing prompt or a malformed number is a 400. */
function parseQuery(query: URLSearchParams): Omit<SampleRequest, "path"> {
  const prompt = query.get("prompt");
  if (prompt === null) throw new HttpError(400, "needs ?prompt=TEXT");
  const get = (key: string, parse: (key: string, text: string) => number) => {
    const text = query.get(key);
    return text === null ? undefined : parse(key, text);
  };
  const step = get("step", wholeNumber);
  return {
    prompt,
    ...(step === undefined ? {} : { step }),
    options: {
      maxNewTokens: get("max_new_tokens", wholeNumber) ?? DEFAULT_NEW_TOKENS,
      temperature: get("temperature", decimal) ?? 0,
      topK: get("top_k", wholeNumber),
      topP: get("top_p", decimal),
      seed: get("seed", wholeNumber) ?? 0,
    },
  };
}

/** A finite decimal number, or a 400 naming the parameter. */
function decimal(key: string, text: string): number {
  const n = Number(text);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) || !Number.isFinite(n)) {
    throw new HttpError(400, `${key} ${JSON.stringify(text)}: not a number`);
  }
  return n;
}

/** The NDJSON line of an event. */
function line(event: SampleEvent): Record<string, unknown> {
  if (event.kind === "token") return { token: event.token, text: event.text, prob: event.prob };
  if (event.kind === "done") {
    const { kind: _, ...rest } = event;
    return { done: true, ...rest };
  }
  return { error: event.error };
}

/** An unbounded queue: `put` never waits, `take` waits for the next value. */
function channel<T>(): { put(value: T): void; take(): Promise<T> } {
  const values: T[] = [];
  const waiting: ((value: T) => void)[] = [];
  return {
    put(value) {
      const take = waiting.shift();
      if (take) take(value);
      else values.push(value);
    },
    take() {
      const value = values.shift();
      if (value !== undefined) return Promise.resolve(value);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}
