/**
 * `mechlab serve`: the local page and its API on 127.0.0.1 (see `engine/server/mod.ts` for what
 * it serves and how it keeps other pages and users out). Prints one line, the link to open with
 * its token, and nothing per request. Ctrl-C stops the runs it started after their current step,
 * with a checkpoint there, and quits once they have written it; later Ctrl-Cs are ignored with a
 * word, as `train`'s are, so nothing trained is lost.
 *
 * @module
 */

import { hasHardwareGpu } from "../engine/gpu/mod.ts";
import { startServer } from "../engine/server/mod.ts";
import { parseFlags } from "./args.ts";
import { UsageError } from "./errors.ts";

/** The port a person can bookmark: fixed unless taken; `--port 0` takes any free one. */
const DEFAULT_PORT = 7310;

function help(): string {
  return [
    "mechlab serve [flags]",
    "",
    "Serves the local UI on 127.0.0.1: the runs under --runs, their curves and checkpoints, and",
    "a form that starts runs (each a `mechlab train` process). Prints the link to open, with the",
    "access token every request needs.",
    "",
    "flags:",
    `  --port N      port on 127.0.0.1; 0 picks a free one (default ${DEFAULT_PORT})`,
    "  --runs DIR    the runs folder (default runs; made by the first run if missing)",
    "  --open        open the link in the browser",
    "  -h, --help    this help",
  ].join("\n");
}

/**
 * Runs `mechlab serve` with command-line `args`, until Ctrl-C or SIGTERM.
 *
 * @example
 * ```ts ignore
 * await serve(["--port", "0", "--runs", "runs"]);
 * ```
 */
export async function serve(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    port: { type: "string" },
    runs: { type: "string" },
    open: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(help());
  // Decimal digits only: Number() would take "0x10" as 16 and " 1" as 1.
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if ((values.port !== undefined && !/^\d{1,5}$/.test(values.port)) || port > 65535) {
    throw new UsageError(`--port ${values.port}: expected an integer from 0 to 65535`);
  }
  const runs = values.runs ?? "runs";
  await checkRunsFolder(runs);
  // Asked once the port is ours: a GPU driver's complaints do not bury a refused port's line.
  const gpu = Promise.withResolvers<boolean>();
  let server;
  try {
    server = await startServer({ port, runs, hardwareGpu: gpu.promise });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`--port ${port}: in use; choose another, or --port 0 for a free one`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`--port ${port}: not allowed; choose a port above 1023`);
    }
    throw e;
  }
  console.log(server.url);
  hasHardwareGpu().then(gpu.resolve);
  if (values.open) openBrowser(server.url);
  const stopped = Promise.withResolvers<void>();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      console.error("stopping: runs started here end after their current step, with a checkpoint");
      server.close({ graceMs: Infinity }).then(stopped.resolve, stopped.reject);
    } else {
      console.error("already stopping: waiting for the runs' checkpoints, then quitting");
    }
  };
  // Windows has no SIGTERM to listen for.
  const names: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const name of names) Deno.addSignalListener(name, onSignal);
  try {
    await stopped.promise;
  } finally {
    for (const name of names) Deno.removeSignalListener(name, onSignal);
  }
}

/** The runs folder must be a folder, or not exist yet (the first run started makes it). */
async function checkRunsFolder(runs: string): Promise<void> {
  try {
    if (!(await Deno.stat(runs)).isDirectory) {
      throw new UsageError(`--runs ${runs}: not a folder`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--runs ${runs}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Opens `url` in the default browser; a machine without one just has the printed link. */
function openBrowser(url: string): void {
  const [program, ...args] = Deno.build.os === "darwin"
    ? ["open", url]
    : Deno.build.os === "windows"
    ? ["cmd", "/c", "start", "", url]
    : ["xdg-open", url];
  try {
    const child = new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.catch(() => {});
    child.unref();
  } catch {
    // no opener: the link is printed
  }
}
