/**
 * The sequence endpoints: one sequence of a run looked at on demand at one checkpoint (the float64
 * CPU model), for the page's sequence views. The sequence is `example=I` (the task's), `tokens=
 * a,b,c` (ids) or `prompt=TEXT` (the vocabulary's labels):
 *
 * - `GET /api/runs/NAME/sequence?step=S&<sequence>[&pos=P][&target=U]`: `SequenceInspectReport`
 *   (loss per position, attention patterns, logit lens and attribution at P, default the last).
 * - `GET /api/runs/NAME/patch?step=S&<sequence>[&partner=J|corrupt_tokens=..|corrupt=TEXT]`:
 *   `SequencePatchingReport`, the clean sequence patched into the corrupted one (for an example,
 *   by default the next example with another last target).
 *
 * A bad request (a step or position that is not a number, a prompt the vocabulary cannot spell,
 * sequences of different lengths) is a 400 with the reason; a step without a checkpoint a 404.
 *
 * @module
 */

import { inspectSequence } from "../analysis/sequence_inspect.ts";
import { type SequenceInput, SequenceInputError } from "../analysis/sequence_input.ts";
import { patchSequence } from "../analysis/sequence_patching.ts";
import { runAtStep, wholeNumber } from "./analysis_api.ts";
import { HttpError, json } from "./http.ts";
import { findRun, type RunsApi } from "./runs_api.ts";

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
): Promise<Response> {
  const { path, step, input } = await request(api, name, query);
  const posText = query.get("pos");
  const targetText = query.get("target");
  const options = {
    ...(posText === null ? {} : { pos: integer("pos", posText) }),
    ...(targetText === null ? {} : { target: wholeNumber("target", targetText) }),
  };
  const run = await runAtStep(path, name, step);
  return json(200, await asBadRequest(() => inspectSequence(run, step, input, options)));
}

/**
 * `GET /api/runs/NAME/patch?step=S&(example=I|tokens=..|prompt=..)[&(partner=J|corrupt_tokens=..|
 * corrupt=..)]`.
 *
 * @example
 * ```ts ignore
 * const r = await (await runPatch(api, "induction", new URLSearchParams("step=500&example=3"))).json();
 * r.head_out; // [L][H]
 * ```
 */
export async function runPatch(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
): Promise<Response> {
  const { path, step, input } = await request(api, name, query);
  const corrupt = sequenceOf(query, "corrupt");
  const run = await runAtStep(path, name, step);
  return json(200, await asBadRequest(() => patchSequence(run, step, input, corrupt)));
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

/** A query value that must be an integer, negative allowed (a position from the end). */
function integer(what: string, text: string): number {
  if (!/^-?\d{1,15}$/.test(text)) {
    throw new HttpError(400, `${what} ${JSON.stringify(text)}: must be an integer`);
  }
  return Number(text);
}

/** `fn()`, with a bad sequence request (`SequenceInputError`) answered 400. */
async function asBadRequest<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SequenceInputError) throw new HttpError(400, e.message);
    throw e;
  }
}
