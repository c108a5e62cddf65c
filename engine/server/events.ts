/**
 * `GET /api/events`: server-sent events. A poller looks at the runs folder every 500 ms and sends
 * `event: metrics` with the lines each run's `metrics.jsonl` gained since the last look, and
 * `event: runs` with the whole `/api/runs` list when a run appears or goes, or a status changes.
 * Sweeps (`sweep_index.ts`) too: their members' lines go out as `metrics` of `SWEEP/MEMBER`, and
 * `event: sweeps` carries the whole `/api/sweeps` list when a sweep or a member lands or finishes.
 * A `: ping` comment every 15 s keeps proxies and the browser from timing the stream out.
 *
 * Polling the files, rather than hearing from the training processes, means a run started from
 * the command line beside the server shows up and streams the same way as one started here.
 *
 * On connecting, a client first gets the current list as a `runs` event; metrics lines written
 * before it connected are for `GET /api/runs/NAME/metrics`. When a metrics file is replaced (a
 * `--resume` cuts it back to its checkpoint), its records are sent again from its first line: a
 * page keys records by `step`, the later one winning.
 *
 * @module
 */

import { HttpError } from "./http.ts";
import type { MetricsEvent, RunSummary, SweepSummary } from "./api_types.ts";
import { type RunIndex, summarize } from "./run_index.ts";
import { summarizeSweep, type SweepIndex } from "./sweep_index.ts";

/** How often the hub looks, and pings. */
export interface EventHubOptions {
  /** Milliseconds between looks at the runs folder (500). */
  pollMs?: number;
  /** Milliseconds between `: ping` comments (15 000). */
  pingMs?: number;
  /** The sweeps under the runs folder: their members' lines are sent as `SWEEP/MEMBER`'s. */
  sweeps?: SweepIndex;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
}

/** More open streams than a person's tabs would need: a runaway script is refused (503). */
const MAX_CLIENTS = 64;
/** Events queued for a client that does not read, before it is dropped. */
const MAX_BACKLOG = 1000;

const encoder = new TextEncoder();

/**
 * The event streams and the poller behind them.
 *
 * @example
 * ```ts
 * import { EventHub } from "./events.ts";
 * import { RunIndex } from "./run_index.ts";
 * const dir = await Deno.makeTempDir();
 * const hub = new EventHub(new RunIndex(dir), () => new Set());
 * await hub.start();
 * const res = hub.connect();
 * res.headers.get("content-type"); // "text/event-stream"
 * await res.body?.cancel();
 * hub.close();
 * await Deno.remove(dir);
 * ```
 */
export class EventHub {
  #index: RunIndex;
  #running: () => ReadonlySet<string>;
  #pollMs: number;
  #pingMs: number;
  #sweeps: SweepIndex | undefined;
  #sweepKey = "";
  #clients = new Set<Client>();
  /** Per run: the generation and count of the records already sent. */
  #sent = new Map<string, { generation: number; count: number }>();
  #list: RunSummary[] = [];
  #listKey = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  #again = false;
  #closed = false;

  /** A hub over `index`; `running` names the runs whose process is alive. */
  constructor(
    index: RunIndex,
    running: () => ReadonlySet<string>,
    options: EventHubOptions = {},
  ) {
    this.#index = index;
    this.#running = running;
    this.#pollMs = options.pollMs ?? 500;
    this.#pingMs = options.pingMs ?? 15_000;
    this.#sweeps = options.sweeps;
  }

  /** Takes the runs as they are now as the baseline (nothing of them is sent), then polls. */
  async start(): Promise<void> {
    await this.#tick(true);
    this.#schedule(this.#pollMs);
    this.#ping = setInterval(() => this.#broadcast(": ping\n\n"), this.#pingMs);
  }

  /** Looks again now rather than at the next tick: a run's process has ended. */
  poke(): void {
    if (this.#ticking) this.#again = true;
    else this.#schedule(0);
  }

  /** A new event stream, opening with the current list; a 503 past 64 streams or once closed. */
  connect(): Response {
    if (this.#closed) throw new HttpError(503, "the server is closing");
    if (this.#clients.size >= MAX_CLIENTS) {
      throw new HttpError(503, `too many open event streams (${MAX_CLIENTS})`);
    }
    let client: Client | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        client = { controller };
        this.#clients.add(client);
        this.#send(client, "retry: 2000\n\n");
        // The list as it is now, not as of the last tick.
        const running = this.#running();
        const list = await this.#index.scan().then(
          (entries) => entries.map((e) => summarize(e, running)),
          () => this.#list,
        );
        if (this.#clients.has(client)) this.#send(client, event("runs", list));
      },
      cancel: () => {
        if (client !== undefined) this.#clients.delete(client);
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  }

  /** Stops polling and pinging and ends every stream. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    for (const client of this.#clients) {
      try {
        client.controller.close();
      } catch {
        // already closed by its reader
      }
    }
    this.#clients.clear();
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      await this.#tick(false);
      const again = this.#again;
      this.#again = false;
      this.#schedule(again ? 0 : this.#pollMs);
    }, ms);
  }

  async #tick(baseline: boolean): Promise<void> {
    this.#ticking = true;
    try {
      const entries = await this.#index.scan();
      const sweeps = (await this.#sweeps?.scan()) ?? [];
      if (this.#closed) return;
      const seen = new Set<string>();
      for (const e of [...entries, ...sweeps.flatMap((s) => [...s.runs.values()])]) {
        seen.add(e.name);
        let sent = this.#sent.get(e.name);
        if (sent === undefined) {
          // A run found later is new: all its lines are news. At start, they are history.
          sent = { generation: e.generation, count: baseline ? e.records.length : 0 };
          this.#sent.set(e.name, sent);
        }
        if (sent.generation !== e.generation) sent = { generation: e.generation, count: 0 };
        if (e.records.length > sent.count) {
          const records = e.records.slice(sent.count);
          const data: MetricsEvent = { name: e.name, records };
          this.#broadcast(event("metrics", data));
        }
        this.#sent.set(e.name, { generation: e.generation, count: e.records.length });
      }
      for (const name of [...this.#sent.keys()]) if (!seen.has(name)) this.#sent.delete(name);
      const running = this.#running();
      this.#list = entries.map((e) => summarize(e, running));
      const key = JSON.stringify(this.#list.map((r) => [r.name, r.status]));
      if (key !== this.#listKey) {
        this.#listKey = key;
        if (!baseline) this.#broadcast(event("runs", this.#list));
      }
      const sweepList: SweepSummary[] = sweeps.map(summarizeSweep);
      const sweepKey = JSON.stringify(sweepList);
      if (sweepKey !== this.#sweepKey) {
        this.#sweepKey = sweepKey;
        if (!baseline) this.#broadcast(event("sweeps", sweepList));
      }
    } catch {
      // An unreadable runs folder now may be readable at the next tick; the server goes on.
    } finally {
      this.#ticking = false;
    }
  }

  #broadcast(text: string): void {
    for (const client of this.#clients) this.#send(client, text);
  }

  #send(client: Client, text: string): void {
    try {
      client.controller.enqueue(encoder.encode(text));
      if ((client.controller.desiredSize ?? 0) < -MAX_BACKLOG) {
        this.#clients.delete(client);
        client.controller.close();
      }
    } catch {
      this.#clients.delete(client); // its reader has gone
    }
  }
}

/** One server-sent event: its name and its data as one line of JSON. */
function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
