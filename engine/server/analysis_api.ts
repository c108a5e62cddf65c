/**
 * The analysis endpoints: what `mechlab analyze` wrote under `runs/NAME/analysis/`, and one input
 * inspected on demand. The router keys a run's endpoints on the path's last segment, so the step
 * and the example are query parameters:
 *
 * - `GET /api/runs/NAME/analysis`: `analysis/index.json` (`AnalysisIndex`); a 404 saying to run
 *   `mechlab analyze --run runs/NAME` when the run was never analysed.
 * - `GET /api/runs/NAME/analysis?step=S`: `analysis/step_NNNNNN.json` (`CheckpointReport`).
 * - `GET /api/runs/NAME/inspect?step=S&example=I[&partner=J]`: `InspectReport`, computed by
 *   `inspectExample` (patching I into J, by default `corruptPartner`'s).
 * - `POST /api/runs/NAME/analyze`: starts `mechlab analyze --run <the run's folder>` as a child
 *   process (not on the server's thread, which a GPU wait would freeze); 202 `{ analyzing: NAME }`,
 *   or 409 while an analysis of that run started here is alive, or 429 while the server runs as many
 *   analyses as it allows. The analysis writes the final
 *   checkpoint first and rewrites `index.json` after each, so `GET analysis` grows as it goes.
 * - `GET /api/runs/NAME/analyze`: that analysis' process (`RunLog`: `running`, exit `code`, last
 *   `lines`, and `error`, its last stderr line: the one-line reason when it failed); 404 if this
 *   server started none for the run.
 *
 * A step or example that is not a whole number, or an example outside the task, is a 400; a step
 * with no checkpoint (or no analysis) a 404. Analysis files are sent as written, and only plain
 * files in a plain `analysis/` folder are read, so no link leads outside the runs folder.
 *
 * @module
 */

import { join, relative } from "node:path";
import { reportFileName } from "../analysis/analyze_run.ts";
import { inspectExample } from "../analysis/inspect.ts";
import { partnerProblem } from "../analysis/partner.ts";
import { type AnalysisRun, openAnalysisRun } from "../analysis/run_data.ts";
import { lastTargets } from "../data/mod.ts";
import { HttpError, json } from "./http.ts";
import { busy, checkName, findRun, type RunsApi } from "./runs_api.ts";

/**
 * `GET /api/runs/NAME/analysis[?step=S]`: the analysis index, or one analysed step's report.
 *
 * @example
 * ```ts ignore
 * const index = await (await runAnalysis(api, "modular_add_23", null)).json(); // { steps, progress, ... }
 * const report = await (await runAnalysis(api, "modular_add_23", "500")).json(); // { step: 500, ... }
 * ```
 */
export async function runAnalysis(
  api: RunsApi,
  name: string,
  step: string | null,
): Promise<Response> {
  const path = (await findRun(api, name)).path;
  const dir = join(path, "analysis");
  const index = await readPlain(dir, "index.json");
  if (index === undefined) {
    throw new HttpError(
      404,
      `run '${name}' has not been analysed: run \`mechlab analyze --run ${shown(path)}\``,
    );
  }
  if (step === null) return jsonText(index);
  const s = wholeNumber("step", step);
  const report = await readPlain(dir, reportFileName(s));
  if (report === undefined) {
    throw new HttpError(404, `run '${name}' has no analysis at step ${s} (see its analysis index)`);
  }
  return jsonText(report);
}

/**
 * `GET /api/runs/NAME/inspect?step=S&example=I[&partner=J]`: example I of the run's task inspected
 * with the weights of its checkpoint at step S, patched into example J (another answer; by
 * default one that differs in every input token it can). A bad J is 400 with the reason.
 *
 * @example
 * ```ts ignore
 * const query = new URLSearchParams("step=500&example=30&partner=100");
 * const r = await (await runInspect(api, "modular_add_23", query)).json();
 * r.patching.corrupt_example; // 100
 * r.patterns.length; // n_layers
 * ```
 */
export async function runInspect(
  api: RunsApi,
  name: string,
  query: URLSearchParams,
): Promise<Response> {
  const path = (await findRun(api, name)).path;
  const [stepText, exampleText] = [query.get("step"), query.get("example")];
  if (stepText === null || exampleText === null) {
    throw new HttpError(400, "inspect needs ?step=S&example=I");
  }
  const step = wholeNumber("step", stepText);
  const example = wholeNumber("example", exampleText);
  const partnerText = query.get("partner");
  const partner = partnerText === null ? undefined : wholeNumber("partner", partnerText);
  const run = await runAtStep(path, name, step);
  const answers = lastTargets(run.task);
  const n = answers.length;
  if (example >= n) {
    throw new HttpError(400, `example ${example}: the task has ${n} (0 to ${n - 1})`);
  }
  const problem = partner === undefined ? null : partnerProblem(answers, example, partner);
  if (problem !== null) throw new HttpError(400, problem);
  return json(
    200,
    await inspectExample(run, step, example, partner === undefined ? {} : { partner }),
  );
}

/**
 * `POST /api/runs/NAME/analyze`: starts `mechlab analyze --run PATH` for the run; 202
 * `{ analyzing: NAME }`, 409 while one for it is alive, 429 while the server runs its most.
 *
 * @example
 * ```ts ignore
 * (await launchAnalysis(api, "modular_add_23")).status; // 202
 * (await launchAnalysis(api, "modular_add_23")).status; // throws HttpError 409 while it runs
 * ```
 */
export async function launchAnalysis(api: RunsApi, name: string): Promise<Response> {
  // A place is taken before the first await, so simultaneous presses cannot all pass the limit.
  const slot = api.analyzer.reserve();
  if (slot === undefined) throw busy(api.analyzer, "analyses are running", "wait for one");
  try {
    const path = (await findRun(api, name)).path;
    // No await from this check to the launch: two presses at once start one analysis.
    if (api.analyzer.running().has(name)) {
      throw new HttpError(409, `run '${name}' is being analysed; wait for it to finish`);
    }
    try {
      api.analyzer.launch(name, [`--run=${path}`]);
    } catch (e) {
      throw new HttpError(500, `cannot start mechlab analyze: ${(e as Error).message}`);
    }
    return json(202, { analyzing: name });
  } finally {
    slot.release(); // launched (its live process holds the place now) or failed
  }
}

/**
 * `GET /api/runs/NAME/analyze`: the process of the analysis this server last started for the run.
 *
 * @example
 * ```ts ignore
 * await analyzeLog(api, "modular_add_23").json(); // { running: false, code: 0, lines: [...], error: null }
 * ```
 */
export function analyzeLog(api: RunsApi, name: string): Response {
  checkName(name);
  const log = api.analyzer.log(name);
  if (log === undefined) throw new HttpError(404, `no analysis of run '${name}' started here`);
  return json(200, log);
}

/**
 * The run at `path` opened for analysis, with a checkpoint at `step`; else a 404 saying what is
 * missing (its config, any checkpoint, that one).
 *
 * @example
 * ```ts ignore
 * const run = await runAtStep("runs/modular_add_23", "modular_add_23", 500);
 * ```
 */
export async function runAtStep(path: string, name: string, step: number): Promise<AnalysisRun> {
  let run;
  try {
    run = await openAnalysisRun(path);
  } catch (e) {
    throw new HttpError(404, (e as Error).message); // no config or no checkpoint yet
  }
  if (!run.checkpoints.some((c) => c.step === step)) {
    throw new HttpError(404, `run '${name}' has no checkpoint at step ${step}`);
  }
  return run;
}

/**
 * A query value that must be a whole number: decimal digits only, else a 400.
 *
 * @example
 * ```ts
 * import { wholeNumber } from "./analysis_api.ts";
 * wholeNumber("step", "500"); // 500; wholeNumber("step", "-1") throws a 400
 * ```
 */
export function wholeNumber(what: string, text: string): number {
  const n = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new HttpError(400, `${what} ${JSON.stringify(text)}: must be a whole number >= 0`);
  }
  return n;
}

/** A plain file's text in a plain folder (neither a link), or undefined if either is not there. */
async function readPlain(dir: string, file: string): Promise<string | undefined> {
  const folder = await Deno.lstat(dir).catch(() => undefined);
  if (!folder?.isDirectory) return undefined;
  const path = join(dir, file);
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isFile) return undefined;
  return await Deno.readTextFile(path).catch(() => undefined);
}

/** The JSON text `mechlab analyze` wrote, answered as it is (it was written atomically). */
function jsonText(text: string): Response {
  return new Response(text, { headers: { "content-type": "application/json; charset=utf-8" } });
}

/** The run's folder as the user would type it: relative to here when inside, else absolute. */
function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
