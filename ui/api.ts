/// <reference lib="dom" />
/**
 * The page's client of `mechlab serve`: same-origin `fetch` of `/api/...` and the `/api/events`
 * stream. Authentication is the HttpOnly cookie the server set when the page was opened with its
 * `?token=`: the page never sees the token, the browser sends the cookie.
 *
 * @module
 */

import type {
  AnalysisIndex,
  Checkpoint,
  CheckpointReport,
  DetectorScores,
  InspectReport,
  LaunchRequest,
  MetricsEvent,
  MetricsRecord,
  PresetsAnswer,
  RunLog,
  RunSummary,
  SequenceInspectReport,
  SequencePatchingReport,
  SweepDetail,
  SweepSummary,
  VocabAnswer,
} from "./types.ts";

/**
 * An error answer of the API: its status and its one-line `error`.
 *
 * @example
 * ```ts
 * import { ApiError } from "./api.ts";
 * const e = new ApiError(400, "unknown preset 'x' (grokking, oocl, smoke)");
 * e.status; // 400
 * ```
 */
export class ApiError extends Error {
  /** The HTTP status. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, credentials: "same-origin" });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (body as { error?: unknown } | null)?.error;
    throw new ApiError(res.status, typeof error === "string" ? error : `HTTP ${res.status}`);
  }
  return body as T;
}

function runPath(name: string, rest: string): string {
  return `/api/runs/${encodeURIComponent(name)}/${rest}`;
}

/**
 * `GET /api/runs`: every run with its last metrics line.
 *
 * @example
 * ```ts
 * import { getRuns } from "./api.ts";
 * const names = (await getRuns()).map((r) => r.name);
 * ```
 */
export function getRuns(): Promise<RunSummary[]> {
  return request("/api/runs");
}

/**
 * `GET /api/sweeps`: the sweep folders under the runs folder.
 *
 * @example
 * ```ts
 * import { getSweeps } from "./api.ts";
 * const names = (await getSweeps()).map((s) => s.name);
 * ```
 */
export function getSweeps(): Promise<SweepSummary[]> {
  return request("/api/sweeps");
}

/**
 * `GET /api/sweeps/NAME`: a sweep's axes and members with their outcomes and curves.
 *
 * @example
 * ```ts
 * import { getSweep } from "./api.ts";
 * const members = (await getSweep("sweep_modular_add_23")).members;
 * ```
 */
export function getSweep(name: string): Promise<SweepDetail> {
  return request(`/api/sweeps/${encodeURIComponent(name)}`);
}

/**
 * `GET /api/runs/NAME/config`: the run's `config.json`.
 *
 * @example
 * ```ts
 * import { getConfig } from "./api.ts";
 * const config = await getConfig("modular_add_23");
 * ```
 */
export function getConfig(name: string): Promise<Record<string, unknown>> {
  return request(runPath(name, "config"));
}

/**
 * `GET /api/runs/NAME/metrics?from=STEP`: the metrics lines with `step >= from`.
 *
 * @example
 * ```ts
 * import { getMetrics } from "./api.ts";
 * const lines = await getMetrics("modular_add_23", 500);
 * ```
 */
export function getMetrics(name: string, from = 0): Promise<MetricsRecord[]> {
  return request(runPath(name, `metrics?from=${from}`));
}

/**
 * `GET /api/runs/NAME/checkpoints`: the checkpoints by step, `final.safetensors` last.
 *
 * @example
 * ```ts
 * import { getCheckpoints } from "./api.ts";
 * const steps = (await getCheckpoints("modular_add_23")).map((c) => c.step);
 * ```
 */
export function getCheckpoints(name: string): Promise<Checkpoint[]> {
  return request(runPath(name, "checkpoints"));
}

/**
 * `GET /api/runs/NAME/analysis`: what `mechlab analyze` wrote in `analysis/index.json`. A run never
 * analysed is an `ApiError` 404 whose message says the command to run.
 *
 * @example
 * ```ts
 * import { getAnalysis } from "./api.ts";
 * const steps = (await getAnalysis("modular_add_23")).steps;
 * ```
 */
export function getAnalysis(name: string): Promise<AnalysisIndex> {
  return request(runPath(name, "analysis"));
}

/**
 * `GET /api/runs/NAME/analysis?step=S`: one analysed checkpoint's `analysis/step_NNNNNN.json`.
 *
 * @example
 * ```ts
 * import { getStepReport } from "./api.ts";
 * const report = await getStepReport("modular_add_23", 500);
 * ```
 */
export function getStepReport(name: string, step: number): Promise<CheckpointReport> {
  return request(runPath(name, `analysis?step=${step}`));
}

/**
 * `GET /api/runs/NAME/inspect?step=S&example=I`: one input at one checkpoint, computed by the
 * server on demand (attention patterns, direct logit attribution, logit lens, patching).
 *
 * @example
 * ```ts
 * import { getInspect } from "./api.ts";
 * const report = await getInspect("modular_add_23", 500, 30);
 * const patched = await getInspect("modular_add_23", 500, 30, 100); // patched into example 100
 * ```
 */
export function getInspect(
  name: string,
  step: number,
  example: number,
  partner: number | null = null,
): Promise<InspectReport> {
  const into = partner === null ? "" : `&partner=${partner}`;
  return request(runPath(name, `inspect?step=${step}&example=${example}${into}`));
}

/** Which sequence a request looks at: an example of the task, or a prompt (text). */
export type SequenceRef = { example: number } | { prompt: string };

/** The query parameters of `ref`. */
function sequenceQuery(ref: SequenceRef): string {
  return "example" in ref ? `example=${ref.example}` : `prompt=${encodeURIComponent(ref.prompt)}`;
}

/**
 * `GET /api/runs/NAME/sequence?step=S&(example=I|prompt=TEXT)&pos=P`: one sequence at every
 * position, the lens and attribution at `pos` (`null`: the last).
 *
 * @example
 * ```ts
 * import { getSequence } from "./api.ts";
 * const r = await getSequence("induction", 500, { example: 3 }, 40);
 * const p = await getSequence("text", 500, { prompt: "hello" });
 * ```
 */
export function getSequence(
  name: string,
  step: number,
  ref: SequenceRef,
  pos: number | null = null,
): Promise<SequenceInspectReport> {
  const at = pos === null ? "" : `&pos=${pos}`;
  return request(runPath(name, `sequence?step=${step}&${sequenceQuery(ref)}${at}`));
}

/** A patching request's corrupted prompt and answers (each one token, as text); all optional. */
export interface PatchOptions {
  corrupt?: string;
  answer?: string;
  corrupt_answer?: string;
}

/** How much of the sweep: the real patches too (default), or attribution patching alone. */
export interface PatchScope {
  patching?: boolean;
}

/**
 * `GET /api/runs/NAME/patch?step=S&(example=I|prompt=TEXT)[&corrupt=..][&answer=..]
 * [&corrupt_answer=..][&patching=0]`: the clean sequence patched into the corrupted one (an
 * example's default partner when none is given), with attribution patching beside it; with
 * `patching: false` attribution alone (quick: one forward and one backward pass).
 *
 * @example
 * ```ts
 * import { getSequencePatch } from "./api.ts";
 * const r = await getSequencePatch("induction", 500, { example: 3 });
 * const p = await getSequencePatch("text", 500, { prompt: "abcab" }, { corrupt: "abdab" });
 * ```
 */
export function getSequencePatch(
  name: string,
  step: number,
  ref: SequenceRef,
  options: PatchOptions & PatchScope = {},
): Promise<SequencePatchingReport> {
  const { patching, ...texts } = options;
  const extra = Object.entries(texts).filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join("") +
    (patching === false ? "&patching=0" : "");
  return request(runPath(name, `patch?step=${step}&${sequenceQuery(ref)}${extra}`));
}

/**
 * `GET /api/runs/NAME/detect?step=S`: the head detectors on repeated random tokens.
 *
 * @example
 * ```ts
 * import { getDetect } from "./api.ts";
 * const scores = await getDetect("text", 500);
 * ```
 */
export function getDetect(name: string, step: number): Promise<DetectorScores> {
  return request(runPath(name, `detect?step=${step}`));
}

/**
 * `GET /api/runs/NAME/vocab`: whether the run's tokens are text (the prompt views' condition).
 *
 * @example
 * ```ts
 * import { getVocab } from "./api.ts";
 * const { textual } = await getVocab("text");
 * ```
 */
export function getVocab(name: string): Promise<VocabAnswer> {
  return request(runPath(name, "vocab"));
}

/**
 * `GET /api/presets`: the presets a run can start from, by name, the one `train` picks on the
 * server's machine, and the values each choice field allows.
 *
 * @example
 * ```ts
 * import { getPresets } from "./api.ts";
 * const { presets, default: preset } = await getPresets();
 * ```
 */
export function getPresets(): Promise<PresetsAnswer> {
  return request("/api/presets");
}

/**
 * `POST /api/runs`: starts a training run; its folder's name. A bad preset or override throws an
 * `ApiError` with status 400 and the server's one-line reason.
 *
 * @example
 * ```ts
 * import { launchRun } from "./api.ts";
 * const { name } = await launchRun({ preset: "smoke", overrides: { train: { steps: 200 } } });
 * ```
 */
export function launchRun(body: LaunchRequest): Promise<{ name: string }> {
  return request("/api/runs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * `POST /api/runs/NAME/stop`: asks a run this server started to stop after its current step.
 *
 * @example
 * ```ts
 * import { stopRun } from "./api.ts";
 * await stopRun("modular_add_23");
 * ```
 */
export async function stopRun(name: string): Promise<void> {
  await request(runPath(name, "stop"), { method: "POST" });
}

/**
 * `POST /api/runs/NAME/analyze`: starts `mechlab analyze` on the run, as a child process of the
 * server. An analysis of the run already running is an `ApiError` 409.
 *
 * @example
 * ```ts
 * import { startAnalyze } from "./api.ts";
 * await startAnalyze("modular_add_23"); // { analyzing: "modular_add_23" }
 * ```
 */
export function startAnalyze(name: string): Promise<{ analyzing: string }> {
  return request(runPath(name, "analyze"), { method: "POST" });
}

/**
 * `GET /api/runs/NAME/analyze`: where the analysis started by `startAnalyze` stands.
 *
 * @example
 * ```ts
 * import { getAnalyzeLog } from "./api.ts";
 * const { running, error } = await getAnalyzeLog("modular_add_23");
 * ```
 */
export function getAnalyzeLog(name: string): Promise<RunLog> {
  return request(runPath(name, "analyze"));
}

/** What `subscribe` calls back with. */
export interface EventHandlers {
  /** New lines of a run's metrics (after a replaced file, again from its first line). */
  metrics(name: string, records: MetricsRecord[]): void;
  /** The whole runs list, when a run appears or goes or a status changes. */
  runs(list: RunSummary[]): void;
  /** The stream opened (`true`, also after a reconnect) or dropped (`false`). */
  connected(open: boolean): void;
  /** The whole sweeps list, when a sweep appears, or a member lands or finishes. */
  sweeps?(list: SweepSummary[]): void;
}

/**
 * Listens to `GET /api/events`; the browser reconnects by itself after a drop. Returns the
 * function that closes the stream.
 *
 * @example
 * ```ts
 * import { subscribe } from "./api.ts";
 * const close = subscribe({
 *   metrics: (name, records) => console.log(name, records.length),
 *   runs: (list) => console.log(list.length),
 *   connected: (open) => console.log(open ? "live" : "reconnecting"),
 * });
 * close();
 * ```
 */
export function subscribe(handlers: EventHandlers): () => void {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => handlers.connected(true));
  source.addEventListener("error", () => handlers.connected(false));
  source.addEventListener("metrics", (e) => {
    const { name, records } = JSON.parse((e as MessageEvent<string>).data) as MetricsEvent;
    handlers.metrics(name, records);
  });
  source.addEventListener("runs", (e) => {
    handlers.runs(JSON.parse((e as MessageEvent<string>).data) as RunSummary[]);
  });
  source.addEventListener("sweeps", (e) => {
    handlers.sweeps?.(JSON.parse((e as MessageEvent<string>).data) as SweepSummary[]);
  });
  return () => source.close();
}
