/**
 * Runs started from the page, each a child process running `mechlab train` (and analyses, each
 * `mechlab analyze`, by a second launcher). Never on the server's own thread: a GPU run waits on
 * `mapAsync` and a CPU run computes for seconds at a time, and either would freeze every request
 * until it let go. A child also stops the way a run from the
 * command line does: one SIGTERM ends it after its current step with a checkpoint there; later
 * ones are ignored, so that checkpoint is always written.
 *
 * The child is the same program as the server: `deno run -A main.ts train ...` under `deno run`,
 * or the executable itself (`mechlab train ...`) when built with `deno compile`. Its output is kept
 * as its last 50 lines (for `GET /api/runs/NAME/log`); the run folder holds everything else. It is
 * started detached, in its own process group, so a Ctrl-C at the server's terminal reaches the
 * server alone, which then stops its runs with one SIGTERM each rather than two signals apiece.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { RunLog } from "./api_types.ts";

/** A program and its arguments. */
export interface ProgramLine {
  program: string;
  args: string[];
}

/** Where the running program came from: what `mechlabCommand` needs to start itself again. */
export interface Self {
  /** `Deno.execPath()`: deno, or the compiled executable. */
  execPath: string;
  /** `Deno.build.standalone`: true in a `deno compile` executable. */
  standalone: boolean;
  /** `import.meta.url` of a module of this program (tells a compiled one apart). */
  moduleUrl: string;
  /** The path of `main.ts`, for `deno run`. */
  mainPath: string;
}

interface Child {
  process: Deno.ChildProcess;
  lines: string[];
  error: string | null;
  code: number | null;
  stopping: boolean;
  /** Resolves once the process has ended and its output is read. */
  done: Promise<void>;
}

const KEEP_LINES = 50;
const MAX_LINE = 1000;
/** Kept after they end, for their logs; the oldest ended ones go first. */
const MAX_REMEMBERED = 100;

/**
 * Whether this program runs as a `deno compile` executable: `Deno.build.standalone` says so, and
 * as a second sign, its modules then live under a virtual folder `deno-compile-NAME` (in the
 * temporary folder) rather than at their paths on disk.
 *
 * @example
 * ```ts
 * import { isCompiled } from "./launcher.ts";
 * isCompiled(); // false under `deno run` and `deno test`
 * isCompiled({ standalone: false, moduleUrl: "file:///tmp/deno-compile-mechlab/engine/server/launcher.ts" }); // true
 * isCompiled({ standalone: false, moduleUrl: "file:///work/main/engine/server/launcher.ts" }); // false
 * ```
 */
export function isCompiled(
  self: Pick<Self, "standalone" | "moduleUrl"> = thisProgram(),
): boolean {
  return self.standalone ||
    /[\\/]deno-compile-[^\\/]+[\\/]/.test(decodeURIComponent(self.moduleUrl));
}

/**
 * The command line that runs `mechlab ARGS` (a command and its flags) as this same program: the
 * executable itself when compiled, else deno running `main.ts` with every permission (as
 * `deno task start` does). Runs use it for `train`, analyses for `analyze`.
 *
 * @example
 * ```ts
 * import { mechlabCommand } from "./launcher.ts";
 * const self = {
 *   execPath: "/usr/bin/deno",
 *   standalone: false,
 *   moduleUrl: "file:///w/engine/server/launcher.ts",
 *   mainPath: "/w/main.ts",
 * };
 * mechlabCommand(["analyze", "--run=/w/runs/r"], self); // { program: "/usr/bin/deno", args: ["run", "-A", "/w/main.ts", "analyze", "--run=/w/runs/r"] }
 * const compiled = { ...self, execPath: "/opt/mechlab", standalone: true };
 * mechlabCommand(["analyze", "--run=/w/runs/r"], compiled); // { program: "/opt/mechlab", args: ["analyze", "--run=/w/runs/r"] }
 * ```
 */
export function mechlabCommand(args: string[], self: Self = thisProgram()): ProgramLine {
  if (isCompiled(self)) return { program: self.execPath, args };
  return { program: self.execPath, args: ["run", "-A", self.mainPath, ...args] };
}

/**
 * The command line that runs `mechlab train ARGS` as this same program (see `mechlabCommand`).
 *
 * @example
 * ```ts
 * import { trainCommand } from "./launcher.ts";
 * const self = {
 *   execPath: "/usr/bin/deno",
 *   standalone: false,
 *   moduleUrl: "file:///w/engine/server/launcher.ts",
 *   mainPath: "/w/main.ts",
 * };
 * trainCommand(["--p=7"], self); // { program: "/usr/bin/deno", args: ["run", "-A", "/w/main.ts", "train", "--p=7"] }
 * const compiled = { ...self, execPath: "/opt/mechlab", standalone: true };
 * trainCommand(["--p=7"], compiled); // { program: "/opt/mechlab", args: ["train", "--p=7"] }
 * ```
 */
export function trainCommand(args: string[], self: Self = thisProgram()): ProgramLine {
  return mechlabCommand(["train", ...args], self);
}

/** This program, as `mechlabCommand` restarts it. */
function thisProgram(): Self {
  return {
    execPath: Deno.execPath(),
    standalone: Deno.build.standalone,
    moduleUrl: import.meta.url,
    mainPath: fileURLToPath(new URL("../../main.ts", import.meta.url)),
  };
}

/**
 * The child processes this server started, by run name: training runs (`mechlab train`), or with
 * a `command` of `mechlabCommand(["analyze", ...args])`, analyses.
 *
 * @example
 * ```ts ignore
 * import { Launcher } from "./launcher.ts";
 * const launcher = new Launcher({ onExit: (name) => console.log(`${name} ended`) });
 * launcher.launch("demo", ["--preset=smoke", "--out=runs", "--name=demo"]);
 * launcher.stop("demo"); // true: SIGTERM sent, the run ends after its current step
 * await launcher.close(10_000);
 * ```
 */
export class Launcher {
  /** The most processes alive and reserved at once (`reserve` refuses beyond it). */
  readonly limit: number;
  #children = new Map<string, Child>();
  #reserved = 0;
  #onExit: (name: string) => void;
  #command: (args: string[]) => ProgramLine;

  /**
   * `onExit` hears of each ended process; `command` makes the child's command line; `limit`
   * bounds the processes `reserve` lets start (unbounded by default).
   */
  constructor(
    options: {
      onExit?: (name: string) => void;
      command?: (args: string[]) => ProgramLine;
      limit?: number;
    } = {},
  ) {
    this.#onExit = options.onExit ?? (() => {});
    this.#command = options.command ?? ((args) => trainCommand(args));
    this.limit = options.limit ?? Infinity;
  }

  /**
   * Holds one of the `limit` places for a launch to come, or returns undefined when they are all
   * taken (by live processes and other reservations). Counting and taking are one synchronous
   * step, so requests that check at once cannot all pass; a caller reserves before its first
   * `await` and calls `release()` once it has launched (the live process then counts) or failed.
   * Releasing twice frees one place.
   *
   * @example
   * ```ts
   * import { Launcher } from "./launcher.ts";
   * const launcher = new Launcher({ limit: 1 });
   * const slot = launcher.reserve();
   * launcher.reserve(); // undefined: the one place is held
   * slot?.release();
   * launcher.reserve() !== undefined; // true
   * ```
   */
  reserve(): { release(): void } | undefined {
    if (this.held() >= this.limit) return undefined;
    this.#reserved++;
    let held = true;
    return {
      release: () => {
        if (held) this.#reserved--;
        held = false;
      },
    };
  }

  /** The names whose process is alive. */
  running(): Set<string> {
    const out = new Set<string>();
    for (const [name, c] of this.#children) if (c.code === null) out.add(name);
    return out;
  }

  /** The places taken: live processes and reservations of launches about to start. */
  held(): number {
    return this.running().size + this.#reserved;
  }

  /** Every name this server has launched (alive or not): taken, even before the folder exists. */
  names(): Set<string> {
    return new Set(this.#children.keys());
  }

  /**
   * Starts `mechlab train ARGS` (or this launcher's `command`) for the run `name`; throws if the
   * program cannot start, or if a process of that name is still alive (replacing it would leave
   * a process no one can stop).
   */
  launch(name: string, args: string[]): void {
    const alive = this.#children.get(name);
    if (alive !== undefined && alive.code === null) throw new Error(`run '${name}' is running`);
    const { program, args: argv } = this.#command(args);
    const proc = new Deno.Command(program, {
      args: argv,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
      env: { NO_COLOR: "1" },
    }).spawn();
    const lines: string[] = [];
    const child: Child = {
      process: proc,
      lines,
      error: null,
      code: null,
      stopping: false,
      done: Promise.resolve(),
    };
    child.done = (async () => {
      const [status] = await Promise.all([
        proc.status,
        keepLines(proc.stdout, lines),
        keepLines(proc.stderr, lines, (line) => (child.error = line)),
      ]);
      child.code = status.code;
      this.#onExit(name);
    })();
    this.#children.delete(name); // a name launched again moves to the end
    this.#children.set(name, child);
    this.#forgetOld();
  }

  /**
   * Asks a running run to stop after its current step, with a checkpoint there: one SIGTERM (a
   * second would be ignored). False if this server has no such run alive.
   */
  stop(name: string): boolean {
    const child = this.#children.get(name);
    if (child === undefined || child.code !== null) return false;
    if (!child.stopping) {
      child.stopping = true;
      signal(child, "SIGTERM");
    }
    return true;
  }

  /** A run's process state and last lines, if this server started it. */
  log(name: string): RunLog | undefined {
    const c = this.#children.get(name);
    return c && { running: c.code === null, code: c.code, lines: [...c.lines], error: c.error };
  }

  /**
   * Stops every run and waits for them: a SIGTERM each (a checkpoint after the current step),
   * then, for any still alive after `graceMs`, SIGKILL (a run killed so resumes from its last
   * checkpoint; the command line waits without end, so nothing trained is lost).
   */
  async close(graceMs: number): Promise<void> {
    const alive = [...this.#children.values()].filter((c) => c.code === null);
    for (const c of alive) {
      if (!c.stopping) signal(c, "SIGTERM");
      c.stopping = true;
    }
    const all = Promise.all(alive.map((c) => c.done));
    await race(all, graceMs);
    for (const c of alive) if (c.code === null) signal(c, "SIGKILL");
    await all;
  }

  #forgetOld(): void {
    for (const [name, c] of this.#children) {
      if (this.#children.size <= MAX_REMEMBERED) break;
      if (c.code !== null) this.#children.delete(name);
    }
  }
}

/**
 * Reads a stream of output into `lines`, keeping the last 50 (each cut at 1000 characters), and
 * tells `seen` of each line.
 */
async function keepLines(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  seen: (line: string) => void = () => {},
): Promise<void> {
  let partial = "";
  const push = (text: string) => {
    const line = text.length > MAX_LINE ? text.slice(0, MAX_LINE) + "…" : text;
    lines.push(line);
    seen(line);
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  };
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split(/\r?\n|\r/);
      partial = parts.pop() ?? "";
      if (partial.length > MAX_LINE) partial = partial.slice(-MAX_LINE);
      parts.forEach(push);
    }
  } catch {
    // the pipe broke: the lines so far are what there is
  }
  if (partial !== "") push(partial);
}

function signal(child: Child, sig: Deno.Signal): void {
  try {
    child.process.kill(sig);
  } catch {
    // it has just ended
  }
}

/** Waits for `p`, at most `ms`. */
async function race(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waits = [p];
  if (Number.isFinite(ms)) waits.push(new Promise((r) => (timer = setTimeout(r, ms))));
  try {
    await Promise.race(waits);
  } finally {
    clearTimeout(timer);
  }
}
