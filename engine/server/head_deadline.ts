/**
 * A front for `Deno.serve` that closes connections whose request head does not arrive in time.
 *
 * `Deno.serve` (hyper underneath) has no header timeout and exposes no socket, so a client that
 * opens connections and sends half a request holds each one open for as long as it likes (200
 * such connections stayed open 20 s, and one stays open minutes). So the server listens on a Unix
 * socket in a private folder, and this front owns the TCP port: it accepts each connection, gives
 * it `timeoutMs` to send its request's head (up to the blank line), and otherwise answers 408 and
 * closes it. A head that arrives is passed on with `Connection: close` in place of the client's
 * own connection headers, so every connection carries one request and no second head can dawdle
 * unwatched behind a first; the bytes then flow both ways untouched until either side closes (an
 * event stream flows for as long as the page keeps it). Windows has no Unix sockets in Deno:
 * there the server listens on a free loopback port, which a local process could reach directly,
 * every check of the server still applying, only this deadline not.
 *
 * @module
 */

/** The most bytes a request head may have before its blank line (hyper's own limit is larger). */
const MAX_HEAD = 64 * 1024;
const CHUNK = 64 * 1024;

/** Where the front listens, and where the server behind it does. */
export interface FrontOptions {
  hostname: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
  /** Milliseconds a connection has to send its request's head. */
  timeoutMs: number;
}

/** A listening front. */
export interface Front {
  /** Where clients connect. */
  addr: Deno.NetAddr;
  /** Where the server behind it must listen: `Deno.serve({ ...front.backend }, handler)`. */
  backend: { path: string } | { hostname: string; port: number };
  /** Stops accepting. Call before shutting the server down. */
  stopAccepting(): void;
  /** Closes every connection still open and removes the socket's folder. */
  close(): Promise<void>;
}

/**
 * Listens on `hostname:port` and relays each connection whose head arrives within `timeoutMs` to
 * the server at `front.backend` (start it there next). Throws `Deno.errors.AddrInUse` for a port
 * in use.
 *
 * @example
 * ```ts
 * import { listenFront } from "./head_deadline.ts";
 * const front = await listenFront({ hostname: "127.0.0.1", port: 0, timeoutMs: 10_000 });
 * const server = Deno.serve({ ...front.backend, onListen: () => {} }, () => new Response("hi"));
 * const res = await fetch(`http://127.0.0.1:${front.addr.port}/`);
 * await res.text(); // "hi"
 * front.stopAccepting();
 * await server.shutdown();
 * await front.close();
 * ```
 */
export async function listenFront(options: FrontOptions): Promise<Front> {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  let dir: string | undefined;
  let backend: Front["backend"];
  if (Deno.build.os === "windows") {
    backend = { hostname: "127.0.0.1", port: freePort() };
  } else {
    dir = await Deno.makeTempDir({ prefix: "mechlab-serve-" }); // 0700: this user's alone
    backend = { path: `${dir}/http.sock` };
  }
  const open = new Set<Deno.Conn>();
  const relays = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const client of listener) {
      open.add(client);
      const relay = relayConnection(client, backend, options.timeoutMs).finally(() => {
        open.delete(client);
        relays.delete(relay);
      });
      relays.add(relay);
    }
  })().catch(() => {}); // the listener was closed
  let stopped = false;
  const stopAccepting = () => {
    if (!stopped) listener.close();
    stopped = true;
  };
  return {
    addr: listener.addr,
    backend,
    stopAccepting,
    async close() {
      stopAccepting();
      await accepting;
      for (const c of open) closeQuietly(c);
      await Promise.all(relays);
      if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** One connection: its head within the deadline, then both ways until one side closes. */
async function relayConnection(
  client: Deno.Conn,
  backend: Front["backend"],
  timeoutMs: number,
): Promise<void> {
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    // Answer, then close: the pending read below ends with the connection.
    answer(client, 408, "the request's head did not arrive in time").finally(() =>
      closeQuietly(client)
    );
  }, timeoutMs);
  let head;
  try {
    head = await readHead(client);
  } finally {
    clearTimeout(timer);
  }
  if (late) return;
  if (head === "too long") {
    await answer(client, 431, `request head over ${MAX_HEAD} bytes`);
    return closeQuietly(client);
  }
  if (head === undefined) return closeQuietly(client); // closed before its head was done
  let server: Deno.Conn;
  try {
    server = "path" in backend
      ? await Deno.connect({ transport: "unix", path: backend.path })
      : await Deno.connect(backend);
  } catch {
    await answer(client, 503, "the server is shutting down");
    return closeQuietly(client);
  }
  // Either side's end ends the other: the client gone (an event stream left), or the answer sent.
  await Promise.all([
    writeAll(server, head).then(() => pump(client, server)).finally(() => closeQuietly(server)),
    pump(server, client).finally(() => closeQuietly(client)),
  ]);
}

/**
 * Reads up to the end of the request's head and returns it with `Connection: close` in place of
 * the client's connection headers, followed by any bytes read past it; undefined if the client
 * closed first, "too long" past `MAX_HEAD`.
 */
async function readHead(conn: Deno.Conn): Promise<Uint8Array | "too long" | undefined> {
  let text = ""; // latin1: one character per byte, so lengths and offsets are bytes
  const buf = new Uint8Array(CHUNK);
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      return undefined;
    }
    if (n === null) return undefined;
    text += latin1(buf.subarray(0, n));
    const end = /\r?\n\r?\n/.exec(text); // the blank line, with or without CR (httparse takes both)
    if (end !== null) {
      return bytes(closeHead(text.slice(0, end.index)) + text.slice(end.index + end[0].length));
    }
    if (text.length > MAX_HEAD) return "too long";
  }
}

/**
 * A head (request line and header lines, no blank line) with its `Connection` and `Keep-Alive`
 * headers replaced by `Connection: close`, ended by the blank line.
 *
 * @example
 * ```ts
 * import { closeHead } from "./head_deadline.ts";
 * closeHead("GET / HTTP/1.1\r\nHost: a\r\nconnection: keep-alive");
 * // "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
 * ```
 */
export function closeHead(head: string): string {
  const lines = head.split(/\r?\n/).filter((line) => !/^(connection|keep-alive)\s*:/i.test(line));
  return [...lines, "Connection: close", "", ""].join("\r\n");
}

/** Copies `from` to `to` until `from` ends or either fails. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  try {
    for (let n = await from.read(buf); n !== null; n = await from.read(buf)) {
      await writeAll(to, buf.subarray(0, n));
    }
  } catch {
    // one side closed: the relay ends
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** A one-line JSON error answer, as every mechlab error; a client that is gone is ignored. */
async function answer(conn: Deno.Conn, status: number, message: string): Promise<void> {
  const body = JSON.stringify({ error: message });
  const reason = { 408: "Request Timeout", 431: "Request Header Fields Too Large" }[status] ??
    "Service Unavailable";
  const text = `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
  await writeAll(conn, bytes(text)).catch(() => {});
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** A loopback port free now (Windows only: the server behind the front takes it next). */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
