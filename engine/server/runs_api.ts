/**
 * The run endpoints: the list, one run's config, metrics and checkpoints, the presets, and
 * starting and stopping runs. A run name in a path is checked with `validateRunName` (400) and
 * then looked up as a plain folder directly under the runs folder (404 if there is none), so no
 * path a request names can lead outside it.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { freeRunName, readSafetensorsMetadata, RunFolder, validateRunName } from "../runs/mod.ts";
import { DEFAULT_TASKS, MODULAR_OPS } from "../data/mod.ts";
import { DEVICES } from "../gpu/pick_device.ts";
import {
  NORMALIZATION_TYPES,
  POSITIONAL_EMBEDDING_TYPES,
  TRAINABLE_BIASES,
} from "../model/config.ts";
import { ACTIVATIONS } from "../reference/activation.ts";
import { SCHEDULES } from "../train/config.ts";
import { defaultPreset, defaultRunName, PRESETS, resolveConfig } from "../train/presets.ts";
import type { LaunchRequest, PresetsAnswer } from "./api_types.ts";
import type { EventHub } from "./events.ts";
import { HttpError, json, readJsonBody } from "./http.ts";
import { type Launch, launchFlags, parseLaunchBody } from "./launch_args.ts";
import type { Launcher } from "./launcher.ts";
import { type RunEntry, type RunIndex, summarize } from "./run_index.ts";
import type { SweepIndex } from "./sweep_index.ts";

/** What the run endpoints work with. */
export interface RunsApi {
  /** The runs folder, absolute. */
  runs: string;
  index: RunIndex;
  /** The sweeps under the runs folder. */
  sweeps: SweepIndex;
  /** The training runs this server started (`mechlab train`). */
  launcher: Launcher;
  /** The analyses this server started (`mechlab analyze`), by run name. */
  analyzer: Launcher;
  hub: EventHub;
  /** mechlab's version, written into each new run's config. */
  version: string;
  /** Whether this machine has a hardware GPU: the launch form then defaults to `grokking`. */
  hardwareGpu: Promise<boolean>;
  /** The largest model whose sweep and detectors the page runs unasked (`EAGER_MAX_PARAMS` unless given). */
  eagerMaxParams?: number;
}

/** The most bytes a request body may have. */
export const BODY_LIMIT = 64 * 1024;

/**
 * `GET /api/runs`: every run, newest first.
 *
 * @example
 * ```ts ignore
 * const rows = await (await listRuns(api)).json(); // [{ name, task, preset, status, ... }]
 * ```
 */
export async function listRuns(api: RunsApi): Promise<Response> {
  const running = api.launcher.running();
  return json(200, (await api.index.scan()).map((e) => summarize(e, running)));
}

/**
 * `GET /api/runs/NAME/config`: the run's `config.json`.
 *
 * @example
 * ```ts ignore
 * const config = await (await runConfig(api, "modular_add_23")).json();
 * ```
 */
export async function runConfig(api: RunsApi, name: string): Promise<Response> {
  return json(200, (await findRun(api, name)).config);
}

/**
 * `GET /api/runs/NAME/metrics?from=STEP`: the metrics lines with `step >= STEP` (default 0).
 *
 * @example
 * ```ts ignore
 * const lines = await (await runMetrics(api, "modular_add_23", "500")).json();
 * ```
 */
export async function runMetrics(
  api: RunsApi,
  name: string,
  from: string | null,
): Promise<Response> {
  const start = from === null ? 0 : Number(from);
  if (from !== null && (from.trim() === "" || !Number.isFinite(start))) {
    throw new HttpError(400, `from ${JSON.stringify(from)}: not a number`);
  }
  const run = await findRun(api, name);
  return json(200, run.records.filter((r) => (r.step ?? -Infinity) >= start));
}

/**
 * `GET /api/runs/NAME/checkpoints`: `[{ step, file }]`, the step files by step, then
 * `final.safetensors` with the step in its metadata.
 *
 * @example
 * ```ts ignore
 * await (await runCheckpoints(api, "modular_add_23")).json();
 * // [{ step: 500, file: "step_000500.safetensors" }, { step: 1500, file: "final.safetensors" }]
 * ```
 */
export async function runCheckpoints(api: RunsApi, name: string): Promise<Response> {
  const folder = new RunFolder((await findRun(api, name)).path);
  // A symbolic link in place of checkpoints/ would lead outside the runs folder: none is listed.
  const dir = await Deno.lstat(dirname(folder.finalPath())).catch(() => undefined);
  if (dir === undefined || !dir.isDirectory || dir.isSymlink) return json(200, []);
  const out = (await folder.listCheckpoints()).map((c) => ({
    step: c.step,
    file: basename(c.path),
  }));
  const finalStep = await checkpointStep(folder.finalPath());
  if (finalStep !== undefined) out.push({ step: finalStep, file: "final.safetensors" });
  return json(200, out);
}

/**
 * `GET /api/presets` (`PresetsAnswer`): each preset's `why` and its whole config (task, model and
 * train, the defaults it leaves filled in), the
 * preset a bare `mechlab train` picks on this machine, and the values allowed for each config
 * field (and the device) whose value is a choice, for the launch form.
 *
 * @example
 * ```ts
 * import { presets } from "./runs_api.ts";
 * const answer = await presets(false).json();
 * Object.keys(answer.presets); // ["grokking", "oocl", "smoke", "induction", "brackets", ...]
 * answer.default; // "smoke": no hardware GPU
 * answer.choices.model.normalization_type; // ["LN", null]
 * ```
 */
export function presets(hardwareGpu: boolean): Response {
  const chosen = defaultPreset(hardwareGpu);
  const answer: PresetsAnswer = {
    default: chosen.name,
    why: chosen.why,
    // Each preset resolved, so the form shows every value a launch would train, defaults too.
    presets: Object.fromEntries(
      Object.entries(PRESETS).map(([name, p]) => {
        const { task, model, train } = resolveConfig(name, {}, "");
        return [name, { why: p.why, task, model, train }];
      }),
    ),
    choices: {
      // An imported model's task has nothing to train on.
      task: {
        task: Object.keys(DEFAULT_TASKS).filter((t) => t !== "pretrained"),
        op: [...MODULAR_OPS],
      },
      model: {
        act_fn: [...ACTIVATIONS],
        // LNPre is an imported model's, not one to train (`checkRunFits` refuses it).
        normalization_type: NORMALIZATION_TYPES.filter((t) => t !== "LNPre"),
        positional_embedding_type: [...POSITIONAL_EMBEDDING_TYPES],
        trainable_biases: [...TRAINABLE_BIASES],
      },
      train: { schedule: [...SCHEDULES] },
      device: [...DEVICES],
    },
  };
  return json(200, answer);
}

/**
 * `POST /api/runs`: checks the body, resolves its config, and starts `mechlab train` for it as a
 * child process; 201 `{ name }`. A bad body is a 400, a name in use a 409.
 *
 * @example
 * ```ts ignore
 * const req = new Request("http://127.0.0.1/api/runs", {
 *   method: "POST",
 *   body: JSON.stringify({ preset: "smoke", overrides: { train: { steps: 100 } } }),
 * });
 * await (await launchRun(api, req)).json(); // { name: "modular_add_23" }
 * ```
 */
export async function launchRun(api: RunsApi, req: Request): Promise<Response> {
  const body = await readJsonBody(req, BODY_LIMIT);
  const request = asBadRequest(() => parseLaunchBody(body));
  // A place is taken before the first await below, so simultaneous launches cannot all pass; and
  // before the config is resolved and its memory estimated (a task built at a large p takes
  // seconds), so a launch refused for want of a place costs nothing.
  const slot = api.launcher.reserve();
  if (slot === undefined) throw busy(api.launcher, "runs are training", "stop one");
  try {
    const launch = asBadRequest(() => launchFlags(request, api.version));
    return json(201, { name: await launchNamed(api, request, launch, slot) });
  } finally {
    slot.release(); // failed (a launch released it as its process began to count)
  }
}

/** `fn`'s result, or its error as a 400 (a body or config the request got wrong). */
function asBadRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
}

/**
 * A 429 for a launcher whose places are all taken: `"N runs are training (at most N); stop one
 * first"`.
 *
 * @example
 * ```ts
 * import { busy } from "./runs_api.ts";
 * import { Launcher } from "./launcher.ts";
 * busy(new Launcher({ limit: 2 }), "runs are training", "stop one").message;
 * // "0 runs are training (at most 2); stop one first"
 * ```
 */
export function busy(launcher: Launcher, what: string, then: string): HttpError {
  return new HttpError(
    429,
    `${launcher.held()} ${what} (at most ${launcher.limit}); ${then} first`,
  );
}

/**
 * Starts the run under the request's name, or a free default one, in the place `slot` held; a 409
 * if the name it asks for is taken. Returns the name.
 */
async function launchNamed(
  api: RunsApi,
  request: LaunchRequest,
  launch: Launch,
  slot: { release(): void },
): Promise<string> {
  while (true) {
    const launched = api.launcher.running(); // afresh each pass: another launch may have won
    let name = request.name;
    if (name === undefined) {
      name = await freeRunName(api.runs, defaultRunName(launch.config), launched);
    } else if (launched.has(name) || await taken(join(api.runs, name))) {
      throw new HttpError(409, `run '${name}' exists; choose another name`);
    }
    // Checked again with no await before the launch: a request that ran during the awaits may
    // have launched this very name (its folder not made yet), and two runs must not share one.
    if (!api.launcher.running().has(name)) {
      const args = [...launch.flags, `--out=${api.runs}`, `--name=${name}`];
      if (request.device !== undefined) args.push(`--device=${request.device}`);
      try {
        api.launcher.launch(name, args);
      } catch (e) {
        throw new HttpError(500, `cannot start mechlab train: ${(e as Error).message}`);
      }
      slot.release(); // its live process holds the place now
      return name;
    }
    if (request.name !== undefined) {
      throw new HttpError(409, `run '${request.name}' exists; choose another name`);
    }
  }
}

/**
 * `POST /api/runs/NAME/stop`: SIGTERM to the run's process, which ends after its current step
 * with a checkpoint there; 202 `{}`, or 404 if this server has no such run alive.
 *
 * @example
 * ```ts ignore
 * stopRun(api, "modular_add_23").status; // 202
 * ```
 */
export function stopRun(api: RunsApi, name: string): Response {
  checkName(name);
  if (!api.launcher.stop(name)) throw new HttpError(404, `no running run '${name}' started here`);
  return json(202, {});
}

/**
 * `GET /api/runs/NAME/log` (beyond the contract, for a run that failed to start): whether its
 * process is alive, its exit code, and its last 50 lines of output.
 *
 * @example
 * ```ts ignore
 * await runLog(api, "modular_add_23").json(); // { running: false, code: 0, lines: [...], error: null }
 * ```
 */
export function runLog(api: RunsApi, name: string): Response {
  checkName(name);
  const log = api.launcher.log(name);
  if (log === undefined) throw new HttpError(404, `no run '${name}' started here`);
  return json(200, log);
}

/**
 * The run of that name, or a 400 (bad name) or 404 (none): every `/api/runs/NAME/...` starts here.
 *
 * @example
 * ```ts ignore
 * const run = await findRun(api, "modular_add_23");
 * run.path; // "runs/modular_add_23"
 * ```
 */
export async function findRun(api: RunsApi, name: string): Promise<RunEntry> {
  checkName(name);
  const run = await api.index.get(name);
  if (run === undefined) throw new HttpError(404, `run '${name}' not found`);
  return run;
}

/**
 * A 400 unless `name` is a valid run name, or a sweep's member `SWEEP/MEMBER` with both parts
 * valid (a member is an ordinary run in its sweep's folder): for endpoints about a process rather
 * than a folder too.
 *
 * @example
 * ```ts
 * import { checkName } from "./runs_api.ts";
 * checkName("modular_add_23"); // passes
 * checkName("sweep_modular_add_23/000_weight_decay-1"); // passes
 * try { checkName(".."); } catch (e) { (e as { status: number }).status; } // 400
 * try { checkName("a/b/c"); } catch (e) { (e as { status: number }).status; } // 400
 * ```
 */
export function checkName(name: string): void {
  try {
    const parts = name.split("/");
    if (parts.length > 2) {
      throw new Error(`run name '${name}': a run, or a sweep's member SWEEP/MEMBER`);
    }
    for (const part of parts) validateRunName(part);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
}

async function taken(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The `step` in a safetensors file's `__metadata__`, reading only its header. */
async function checkpointStep(path: string): Promise<number | undefined> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isFile) return undefined;
  const step = Number((await readSafetensorsMetadata(path).catch(() => undefined))?.step);
  return Number.isSafeInteger(step) ? step : undefined; // torn or foreign: not listed
}
