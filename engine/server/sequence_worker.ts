/**
 * The worker behind the sequence endpoints (`sequence_api.ts`): opens the run, computes one
 * report (a sequence inspected, a patching sweep with its attribution, the head detectors) on the
 * CPU model `checkpointRunner` picks (f32 for text and pretrained runs, else float64) and posts it
 * back, so that the server's thread only forwards it. A request
 * that only names prompts or token ids opens the run from its config alone (`promptTask`), so a
 * text run's data file need not be at hand.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { headDetectorScores } from "../analysis/head_detector.ts";
import { checkpointRunner, openAnalysisRun, openCheckpointedRun } from "../analysis/run_data.ts";
import { inspectSequence, type SequenceInspectOptions } from "../analysis/sequence_inspect.ts";
import {
  encodeText,
  promptTask,
  type SequenceInput,
  SequenceInputError,
  type SequenceRun,
} from "../analysis/sequence_input.ts";
import { patchSequence } from "../analysis/sequence_patching.ts";
import { RunInputError } from "../runs/run_error.ts";

/** What an endpoint asks: the run's folder and name, the checkpoint, and the report. */
export type SequenceJob =
  & { path: string; name: string; step: number }
  & (
    | { kind: "sequence"; input: SequenceInput; options: SequenceInspectOptions }
    | {
      kind: "patch";
      input: SequenceInput;
      corrupt?: SequenceInput | undefined;
      /** The answers as text, one token each. */
      answer?: string | undefined;
      corrupt_answer?: string | undefined;
      /** False: attribution alone. */
      patching: boolean;
    }
    | { kind: "detect" }
  );

/** What the worker posts: the report, or the one-line error with the HTTP status it deserves. */
export type SequenceReply =
  | { ok: true; body: unknown }
  | { ok: false; status: 400 | 404 | 422 | 500; error: string };

self.onmessage = async (event: MessageEvent<SequenceJob>) => {
  self.postMessage(await reply(event.data) satisfies SequenceReply);
};

/** The job's report, or why not. */
async function reply(job: SequenceJob): Promise<SequenceReply> {
  let run: SequenceRun;
  try {
    run = await openRun(job);
  } catch (e) {
    return { ok: false, status: 404, error: oneLine(e) }; // no config or no checkpoint yet
  }
  if (!run.checkpoints.some((c) => c.step === job.step)) {
    return {
      ok: false,
      status: 404,
      error: `run '${job.name}' has no checkpoint at step ${job.step}`,
    };
  }
  try {
    return { ok: true, body: await report(run, job) };
  } catch (e) {
    const status = e instanceof SequenceInputError ? 400 : e instanceof RunInputError ? 422 : 500;
    return { ok: false, status, error: oneLine(e) };
  }
}

/** The run with its task's examples where the job names one, else from its config alone. */
async function openRun(job: SequenceJob): Promise<SequenceRun> {
  const inputs = job.kind === "sequence"
    ? [job.input]
    : job.kind === "patch"
    ? [job.input, ...(job.corrupt === undefined ? [] : [job.corrupt])]
    : [];
  if (inputs.some((i) => i.example !== undefined)) return await openAnalysisRun(job.path);
  const run = await openCheckpointedRun(job.path);
  return { ...run, task: promptTask(run.config.task) };
}

async function report(run: SequenceRun, job: SequenceJob): Promise<unknown> {
  if (job.kind === "sequence") return await inspectSequence(run, job.step, job.input, job.options);
  if (job.kind === "detect") {
    const { runner } = await checkpointRunner(run, job.step);
    return await headDetectorScores(runner, run.config.model);
  }
  return await patchSequence(run, {
    step: job.step,
    clean: job.input,
    corrupt: job.corrupt,
    answer: oneToken(run, job.answer, "answer"),
    corrupt_answer: oneToken(run, job.corrupt_answer, "corrupt_answer"),
    patching: job.patching,
  });
}

/** The id of `text`, which must be one token of the run's vocabulary. */
function oneToken(run: SequenceRun, text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const ids = encodeText(run.task.vocab, text, what, { prependBos: false });
  if (ids.length !== 1) {
    throw new SequenceInputError(
      `${what} ${JSON.stringify(text)} is ${ids.length} tokens; give one`,
    );
  }
  return ids[0];
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
