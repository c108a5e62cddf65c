/**
 * The server's responsiveness while a run trains: `mechlab serve` on a temporary runs folder
 * launches the smoke preset from its API (a child process, as the page does; on the GPU adapter
 * if there is one, where a GPU wait freezes the trainer's thread, else on the CPU), and once the
 * run is training times `GET /api/runs` and `GET /api/runs/NAME/metrics` one after another. Peer
 * in the same run: the same requests to the idle server before the launch.
 *
 * @module
 */

import { requestGpu } from "../engine/gpu/mod.ts";
import { startServer } from "../engine/server/mod.ts";
import { printTable } from "./timing.ts";

/** Requests timed of each kind: enough for a stable median and a telling slowest. */
const REQUESTS = 100;

/** Milliseconds of each of `REQUESTS` sequential calls of `fetchOnce`, sorted. */
async function timed(fetchOnce: () => Promise<void>): Promise<number[]> {
  await fetchOnce(); // warm-up: connection, caches
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await fetchOnce();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

/** Runs the serve benchmark and prints its table. */
export async function benchServe(): Promise<void> {
  const gpu = await requestGpu().catch(() => undefined);
  console.log(`adapter: ${gpu?.describe() ?? "none (CPU path only)"}`);
  gpu?.destroy();
  const device = gpu === undefined ? "cpu" : "gpu";
  const runs = await Deno.makeTempDir();
  const server = await startServer({ port: 0, runs });
  const origin = `http://127.0.0.1:${server.port}`;
  const headers = { authorization: `Bearer ${server.token}` };
  const get = (path: string) => async () => {
    const res = await fetch(origin + path, { headers });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  try {
    const idle = await timed(get("/api/runs"));
    const launch = await fetch(`${origin}/api/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        preset: "smoke",
        name: "busy",
        device,
        overrides: { train: { steps: 1_000_000, eval_every: 50 } },
      }),
    });
    if (launch.status !== 201) throw new Error(`launch: ${launch.status} ${await launch.text()}`);
    // Training for real: its metrics have a line past step 0.
    for (;;) {
      const res = await fetch(`${origin}/api/runs/busy/metrics`, { headers });
      const lines = res.status === 200 ? await res.json() as { step: number }[] : [];
      if (res.status !== 200) await res.body?.cancel();
      if (lines.some((m) => m.step > 0)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const rows = [["request", "while", "median ms", "90% ms", "slowest ms", "x idle (median)"]];
    const add = (what: string, while_: string, ms: number[]) =>
      rows.push([
        what,
        while_,
        ms[Math.floor(ms.length / 2)]!.toFixed(2),
        ms[Math.floor(ms.length * 0.9)]!.toFixed(2),
        ms.at(-1)!.toFixed(2),
        (ms[Math.floor(ms.length / 2)]! / idle[Math.floor(idle.length / 2)]!).toFixed(2),
      ]);
    add("GET /api/runs", "idle (peer)", idle);
    add("GET /api/runs", `training on ${device}`, await timed(get("/api/runs")));
    add(
      "GET /api/runs/busy/metrics",
      `training on ${device}`,
      await timed(get("/api/runs/busy/metrics")),
    );
    const log = await (await fetch(`${origin}/api/runs/busy/log`, { headers })).json();
    if (log.running !== true) throw new Error("the run stopped before the requests ended");
    console.log(`${REQUESTS} requests of each kind, one after another, after one warm-up`);
    printTable(rows);
  } finally {
    await server.close({ graceMs: 0 });
    await Deno.remove(runs, { recursive: true });
  }
}
