/**
 * Reading server-sent events in the server tests: one event at a time, optionally the next that
 * matches, within a deadline.
 *
 * @module
 */

/** One event as the server sends it: its name and its JSON data. */
// deno-lint-ignore no-explicit-any
export type Event = { event: string; data: any };

/** The events of one stream. */
export interface Events {
  /** The next event that `match`es (any, without one), within the stream's timeout. */
  next(match?: (e: Event) => boolean): Promise<Event>;
  cancel(): Promise<void>;
}

/** Reads `body` as server-sent events; each `next` fails after `timeoutMs` with no match. */
export function sse(body: ReadableStream<Uint8Array>, timeoutMs: number): Events {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(match = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue; // a comment or the retry line
          const e = { event, data: JSON.parse(data) };
          if (match(e)) return e;
          continue;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no such event within ${timeoutMs / 1000} s`)),
            deadline - Date.now(),
          );
        });
        try {
          const r = await Promise.race([reader.read(), timeout]);
          if (r.done) throw new Error("event stream ended");
          buffer += r.value;
        } finally {
          clearTimeout(timer);
        }
      }
    },
    cancel: () => reader.cancel(),
  };
}
