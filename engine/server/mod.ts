/**
 * `mechlab serve`'s server: one local HTTP server for the page and its API.
 *
 * **What it serves.** The page (`/`, `/app.js`, `/app.css`, from `ui/bundle.gen.ts`, embedded in
 * the program) and a JSON API over the runs folder: the runs with their status and last metrics,
 * each run's config, metrics and checkpoints, the presets, a stream of server-sent events as runs
 * grow, starting and stopping runs, and starting `mechlab analyze` on a run. The contract,
 * endpoint by endpoint, is in `runs_api.ts`, `analysis_api.ts`, `events.ts` and `app.ts`.
 *
 * **Security model.** It listens on 127.0.0.1 only, yet everything on this machine can reach that
 * address, browser pages included. So a request must name this server in `Host` (a rebound DNS
 * name is refused, as is a request line naming another host), a browser request must come from
 * this server's own origin, and every `/api/` request must carry the 32-hex-character token
 * printed at start: as the HttpOnly, SameSite=Strict cookie that `GET /?token=T` sets, or as
 * `Authorization: Bearer T`. A run name in a path is checked and looked up only as a plain folder
 * directly under the runs folder, so nothing outside it is read. Bodies are limited to 64 KiB;
 * each bad request gets a one-line JSON error and the server goes on. A connection has 10 s to
 * send its request's head, or it is closed (see `head_deadline.ts`). (See `auth.ts`.) A limit:
 * cookies ignore ports, so two servers on one machine share the cookie name, and logging in to
 * one logs the browser out of the other.
 *
 * **Why runs are child processes.** Training blocks the thread it runs on: a CPU run computes for
 * seconds between awaits and a GPU run waits on the device, and on the server's thread either
 * would freeze every request. A child process (`mechlab train`, the same program) keeps the
 * server answering, dies alone if it fails, stops on SIGTERM exactly as from the command line
 * (a checkpoint after its current step), and writes the same run folder a command-line run
 * does, so the server watches every run the same way: by polling its files. (See `launcher.ts`.)
 * An analysis started from the page is a child process (`mechlab analyze`) for the same reasons.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * const runs = await Deno.makeTempDir();
 * const server = await startServer({ port: 0, runs });
 * const origin = `http://127.0.0.1:${server.port}`;
 * const res = await fetch(`${origin}/api/runs`, {
 *   headers: { authorization: `Bearer ${server.token}` },
 * });
 * await res.json(); // []
 * await server.close();
 * await Deno.remove(runs);
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import meta from "../../deno.json" with { type: "json" };
import * as bundle from "../../ui/bundle.gen.ts";
import { type Assets, createHandler } from "./app.ts";
import { newToken } from "./auth.ts";
import { type Front, listenFront } from "./head_deadline.ts";
import { errorResponse } from "./http.ts";
import { EventHub } from "./events.ts";
import { Launcher, mechlabCommand, type ProgramLine } from "./launcher.ts";
import { RunIndex } from "./run_index.ts";
import { SweepIndex } from "./sweep_index.ts";

/**
 * Trainings this server runs at once: one per core. A CPU run keeps a core busy, so more than the
 * cores only slows every run and multiplies their memory; a GPU run waits on the one device, which
 * more runs would share too. At least 2, so one run can be compared with another on any machine.
 */
const MAX_TRAININGS = Math.max(2, navigator.hardwareConcurrency);
/**
 * Analyses at once: 2. Each reads every checkpoint and computes on a core, beside the trainings;
 * a person analyses a run or two at a time, and a button pressed on many runs waits its turn.
 */
const MAX_ANALYSES = 2;

/**
 * What a connection gets to send its request's head: 10 s. A browser or script sends it at once;
 * a client that sends half a request would otherwise hold its connection open for good.
 */
const HEAD_TIMEOUT_MS = 10_000;

/** How to start the server. */
export interface ServerOptions {
  /** The port on 127.0.0.1; 0 picks a free one (7310). */
  port?: number;
  /** The runs folder (`runs`). */
  runs?: string;
  /** The token (a fresh random one). */
  token?: string;
  /** Milliseconds between looks at the runs folder for events (500). */
  pollMs?: number;
  /** The page (the embedded bundle). */
  assets?: Assets;
  /** Milliseconds a connection has to send its request's head before it is closed (10 000). */
  headTimeoutMs?: number;
  /**
   * Whether this machine has a hardware GPU (false): the launch form then defaults to the preset
   * a bare `train` picks there. `mechlab serve` asks the GPU (`hasHardwareGpu`) once it listens;
   * `GET /api/presets` waits for the answer.
   */
  hardwareGpu?: boolean | Promise<boolean>;
  /**
   * The largest model (in weights) whose patching sweep and head detectors the page runs without
   * being asked (`EAGER_MAX_PARAMS`, 10M): a test sets 0 to see the buttons a GPT-2 gets.
   */
  eagerMaxParams?: number;
  /** Trainings at once, at most (one per core, at least 2). */
  maxTrainings?: number;
  /** Analyses at once, at most (2). */
  maxAnalyses?: number;
  /**
   * The command line of a child `mechlab ARGS` (`train ...` or `analyze ...`): this program
   * (`mechlabCommand`); a test gives a stub.
   */
  command?: (args: string[]) => ProgramLine;
}

/** A started server. */
export interface ServerHandle {
  /** The link to open: `http://127.0.0.1:PORT/?token=TOKEN`. */
  url: string;
  /** The token every `/api/` request needs. */
  token: string;
  /** The port it listens on. */
  port: number;
  /**
   * Stops answering, ends the event streams and stops the runs it started: one SIGTERM each (a
   * checkpoint after the current step), then SIGKILL for any still alive after `graceMs` (60 000;
   * `Infinity` waits for every checkpoint). Calling it again returns the same promise.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1. A port in use is a `Deno.errors.AddrInUse`.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * const server = await startServer({ port: 0, runs: "runs", token: "0123456789abcdef0123456789abcdef" });
 * server.url; // `http://127.0.0.1:${server.port}/?token=0123456789abcdef0123456789abcdef`
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const runs = resolve(options.runs ?? "runs");
  const token = options.token ?? newToken();
  if (!/^[0-9A-Za-z_-]{16,}$/.test(token)) {
    throw new RangeError("token: at least 16 letters, digits, '_' or '-'");
  }
  const index = new RunIndex(runs);
  const command = options.command ?? ((args) => mechlabCommand(args));
  const launcher = new Launcher({
    onExit: () => hub.poke(),
    command: (args) => command(["train", ...args]),
    limit: options.maxTrainings ?? MAX_TRAININGS,
  });
  const analyzer = new Launcher({
    command: (args) => command(["analyze", ...args]),
    limit: options.maxAnalyses ?? MAX_ANALYSES,
  });
  const sweeps = new SweepIndex(index);
  const hub: EventHub = new EventHub(index, () => launcher.running(), {
    sweeps,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  await hub.start();
  let port = 0;
  const handler = createHandler({
    token,
    port: () => port,
    assets: options.assets ?? bundle,
    api: {
      runs,
      index,
      sweeps,
      launcher,
      analyzer,
      hub,
      version: meta.version,
      hardwareGpu: Promise.resolve(options.hardwareGpu ?? false),
      ...(options.eagerMaxParams === undefined ? {} : { eagerMaxParams: options.eagerMaxParams }),
    },
  });
  let front: Front;
  try {
    front = await listenFront({
      hostname: "127.0.0.1",
      port: options.port ?? 7310,
      timeoutMs: options.headTimeoutMs ?? HEAD_TIMEOUT_MS,
    });
  } catch (e) {
    hub.close();
    throw e;
  }
  let server: Deno.HttpServer;
  try {
    // Behind the front, which owns the TCP port (see head_deadline.ts).
    server = Deno.serve({
      ...front.backend,
      onListen: () => {}, // the caller prints the one start line
      onError: (e) => errorResponse(500, `internal error: ${(e as Error)?.message ?? e}`),
    }, handler);
  } catch (e) {
    hub.close();
    await front.close();
    throw e;
  }
  port = front.addr.port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    close(closeOptions = {}) {
      if (closing !== undefined) return closing;
      closing = (async () => {
        hub.close(); // ends the event streams, which shutdown would otherwise wait for
        front.stopAccepting();
        await server.shutdown();
        await front.close();
        const graceMs = closeOptions.graceMs ?? 60_000;
        await Promise.all([launcher.close(graceMs), analyzer.close(graceMs)]);
      })();
      return closing;
    },
  };
}
