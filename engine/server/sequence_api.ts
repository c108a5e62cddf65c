/**
 * The sequence endpoints: one sequence of a run looked at on demand at one checkpoint (the float64
 * CPU model), for the page's sequence and prompt views. The sequence is `example=I` (the task's),
 * `tokens=a,b,c` (ids) or `prompt=TEXT` (read by the codec, as `sample` reads it):
 *
 * - `GET /api/runs/NAME/sequence?step=S&<sequence>[&pos=P][&target=U]`: `SequenceInspectReport`
 *   (loss per position, attention patterns, logit lens and attribution at P, default the last).
 * - `GET /api/runs/NAME/patch?step=S&<sequence>[&partner=J|corrupt_tokens=..|corrupt=TEXT]
 *   [&answer=TEXT][&corrupt_answer=TEXT][&patching=0]`: `SequencePatchingReport`, the clean
 *   sequence patched into the corrupted one (for an example, by default the next example with
 *   another last target), scored by `logit[answer] − logit[corrupt_answer]` at the end (each one
 *   token; by default each sequence's target there, else its argmax), beside attribution
 *   patching's estimate of every patch and their correlation; `patching=0` gives the estimate
 *   alone (one forward and one backward pass, where the sweep runs one forward pass per patch).
 * - `GET /api/runs/NAME/detect?step=S`: `DetectorScores`, the head detectors on repeated random
 *   tokens.
 * - `GET /api/runs/NAME/vocab`: `{ textual, eager, n_ctx, d_vocab, d_vocab_out }` from the run's
 *   config: whether its tokens are text (`isTextual`), for the page's prompt views, and whether
 *   the page runs its costly analyses (the patching sweep after attribution, the head detectors)
 *   unasked (`eager`: a model of at most `EAGER_MAX_PARAMS` weights) or waits to be asked (an
 *   imported GPT-2).
 *
 * Each report is computed in a Worker (`sequence_worker.ts`), never on the server's thread; at most
 * `MAX_JOBS` at once (a 429 beyond). A bad request (a step or position that is not a number, a
 * prompt the vocabulary cannot spell, sequences of different lengths, an answer of two tokens) is a
 * 400 with the reason; a step without a checkpoint a 404.
 *
 * @module
 */

import { openCheckpointedRun } from "../analysis/run_data.ts";
import type { SequenceInput } from "../analysis/sequence_input.ts";
import { isTextual } from "../data/codec.ts";
import { taskShape } from "../data/task_config.ts";
import { paramCount } from "../model/params.ts";
import { wholeNumber } from "./analysis_api.ts";
import type { VocabAnswer } from "./api_types.ts";
import { HttpError, json } from "./http.ts";
import { findRun, type RunsApi } from "./runs_api.ts";
import type { SequenceJob, SequenceReply } from "./sequence_worker.ts";

/**
 * Sequence workers at once, over all runs. A page asks for up to four per prompt (the sequence,
 * attribution alone, the patching sweep, the detectors), so room for two prompts in flight; they
 * share the cores. A worker whose client goes away (the request's signal aborts) is stopped.
 * deno.json's `"unstable": ["no-legacy-abort"]` makes that signal abort only then: Deno's legacy
 * behaviour aborts it after every answer too (harmless here, the job is over) and says so on stderr.
 */
const MAX_JOBS = 8;
let running = 0;

/**
 * `GET /api/runs/NAME/sequence?step=S&(example=I|tokens=..|prompt=..)[&pos=P][&target=U]`.
 *
 * @example
 * ```ts ignore
 * const r = await (await runSequence(api, "induction", new URLSearchParams("step=500&example=3&pos=40"))).json();
 * r.patterns.length; // n_layers
 * ```
 */
export async function runSequence(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
  signal?: AbortSignal,
): Promise<Response> {
  const { path, step, input } = await request(api, name, query);
  const posText = query.get("pos");
  const targetText = query.get("target");
  const options = {
    ...(posText === null ? {} : { pos: integer("pos", posText) }),
    ...(targetText === null ? {} : { target: wholeNumber("target", targetText) }),
  };
  return await inWorker({ kind: "sequence", path, name, step, input, options }, signal);
}

/**
 * `GET /api/runs/NAME/patch?step=S&(example=I|tokens=..|prompt=..)[&(partner=J|corrupt_tokens=..|
 * corrupt=..)][&answer=TEXT][&corrupt_answer=TEXT]`.
 *
 * @example
 * ```ts ignore
 * const q = new URLSearchParams("step=500&prompt=abcab&corrupt=abdab&answer=c&corrupt_answer=d");
 * const r = await (await runPatch(api, "text", q)).json();
 * r.attribution.correlation.head_out; // the linear estimate against the real patches
 * ```
 */
export async function runPatch(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
  signal?: AbortSignal,
): Promise<Response> {
  const { path, step, input } = await request(api, name, query);
  return await inWorker({
    kind: "patch",
    path,
    name,
    step,
    input,
    corrupt: sequenceOf(query, "corrupt"),
    answer: query.get("answer") ?? undefined,
    corrupt_answer: query.get("corrupt_answer") ?? undefined,
    patching: flag("patching", query.get("patching")),
  }, signal);
}

/**
 * `GET /api/runs/NAME/detect?step=S`: the head detectors at that checkpoint.
 *
 * @example
 * ```ts ignore
 * const r = await (await runDetect(api, "text", new URLSearchParams("step=500"))).json();
 * r.induction; // [L][H]
 * ```
 */
export async function runDetect(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
  signal?: AbortSignal,
): Promise<Response> {
  const path = (await findRun(api, name)).path;
  const stepText = query.get("step");
  if (stepText === null) throw new HttpError(400, "needs ?step=S");
  const step = wholeNumber("step", stepText);
  return await inWorker({ kind: "detect", path, name, step }, signal);
}

/**
 * The largest model (in weights) whose patching sweep and head detectors the page runs without
 * being asked. The sweep
 * is one float64 CPU forward pass per patch, L·T + L·H of them (GPT-2 small on a 15-token prompt:
 * 324 passes of 124M weights, minutes), where attribution patching is one forward and one backward
 * pass; the models mechlab trains are far below this, GPT-2 small far above.
 */
export const EAGER_MAX_PARAMS = 10_000_000;

/**
 * `GET /api/runs/NAME/vocab`: whether the run's tokens are text, and its sizes.
 *
 * @example
 * ```ts ignore
 * await (await runVocab(api, "text")).json(); // { textual: true, eager: true, n_ctx: 64, d_vocab: 65, d_vocab_out: 65 }
 * ```
 */
export async function runVocab(api: RunsApi, name: string): Promise<Response> {
  const path = (await findRun(api, name)).path;
  let run;
  try {
    run = await openCheckpointedRun(path);
  } catch (e) {
    throw new HttpError(404, (e as Error).message.split("\n")[0]!); // no config or checkpoint yet
  }
  const { vocab, n_ctx } = taskShape(run.config.task);
  const answer: VocabAnswer = {
    textual: isTextual(vocab),
    eager: paramCount(run.layout) <= (api.eagerMaxParams ?? EAGER_MAX_PARAMS),
    n_ctx,
    d_vocab: vocab.d_vocab,
    d_vocab_out: vocab.d_vocab_out,
  };
  return json(200, answer);
}

/**
 * The job's report from a fresh worker, or its error as an `HttpError`; when `signal` aborts (the
 * client went away) the worker is stopped at once and its place freed.
 */
async function inWorker(job: SequenceJob, signal?: AbortSignal): Promise<Response> {
  if (running >= MAX_JOBS) {
    throw new HttpError(429, `${MAX_JOBS} sequence analyses are running; wait for one to finish`);
  }
  running++;
  const worker = new Worker(new URL("./sequence_worker.ts", import.meta.url).href, {
    type: "module",
  });
  let gone = () => {};
  try {
    const reply = await new Promise<SequenceReply | "gone">((resolve) => {
      worker.onmessage = (e: MessageEvent<SequenceReply>) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        resolve({ ok: false, status: 500, error: e.message });
      };
      gone = () => resolve("gone");
      if (signal?.aborted) gone();
      signal?.addEventListener("abort", gone);
      worker.postMessage(job);
    });
    // 499, nginx's "client closed request": no one reads it.
    if (reply === "gone") throw new HttpError(499, "the client went away");
    if (!reply.ok) throw new HttpError(reply.status, reply.error);
    return json(200, reply.body);
  } finally {
    signal?.removeEventListener("abort", gone);
    worker.terminate();
    running--;
  }
}

/** The run's folder, the step and the sequence of a request. */
async function request(api: RunsApi, name: string, query: URLSearchParams) {
  const path = (await findRun(api, name)).path;
  const stepText = query.get("step");
  if (stepText === null) {
    throw new HttpError(400, "needs ?step=S and one of example, tokens, prompt");
  }
  const input = sequenceOf(query, "");
  if (input === undefined) throw new HttpError(400, "give one of example, tokens or prompt");
  return { path, step: wholeNumber("step", stepText), input };
}

/**
 * The sequence a query names: `example` (or `partner` for the corrupted one), `tokens` (or
 * `corrupt_tokens`), `prompt` (or `corrupt`); `undefined` when none is given.
 */
function sequenceOf(query: URLSearchParams, which: "" | "corrupt"): SequenceInput | undefined {
  const [example, tokens, prompt] = which === ""
    ? [query.get("example"), query.get("tokens"), query.get("prompt")]
    : [query.get("partner"), query.get("corrupt_tokens"), query.get("corrupt")];
  const input: SequenceInput = {
    ...(example === null
      ? {}
      : { example: wholeNumber(which === "" ? "example" : "partner", example) }),
    ...(tokens === null ? {} : {
      tokens: tokens.split(",").map((t) => wholeNumber("token", t.trim())),
    }),
    ...(prompt === null ? {} : { prompt }),
  };
  return Object.keys(input).length === 0 ? undefined : input;
}

/** A `0`/`1` query value (default 1). */
function flag(what: string, text: string | null): boolean {
  if (text !== null && text !== "0" && text !== "1") {
    throw new HttpError(400, `${what} ${JSON.stringify(text)}: must be 0 or 1`);
  }
  return text !== "0";
}

/** A query value that must be an integer, negative allowed (a position from the end). */
function integer(what: string, text: string): number {
  if (!/^-?\d{1,15}$/.test(text)) {
    throw new HttpError(400, `${what} ${JSON.stringify(text)}: must be an integer`);
  }
  return Number(text);
}
