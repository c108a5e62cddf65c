/**
 * The HTTP plumbing the server's handlers share: JSON answers, errors as `{"error": "one line"}`,
 * the request path split into decoded segments without the URL parser's `..` folding, and a JSON
 * body read with a byte limit.
 *
 * @module
 */

/**
 * An error a request caused, answered with `status` and `{"error": message}`; the message is one
 * line, as every mechlab error.
 *
 * @example
 * ```ts
 * import { HttpError } from "./http.ts";
 * new HttpError(404, "run 'x' not found").status; // 404
 * ```
 */
export class HttpError extends Error {
  override name = "HttpError";
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Headers the answer needs (a 405's `Allow`). */
  readonly headers: Record<string, string>;

  /** An error answered with `status`; only the first line of `message` is kept. */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(oneLine(message));
    this.status = status;
    this.headers = headers;
  }
}

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * import { json } from "./http.ts";
 * const r = json(201, { name: "demo" });
 * r.status; // 201
 * await r.json(); // { name: "demo" }
 * ```
 */
export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * The error answer: `{"error": "one line"}` with `status`.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./http.ts";
 * await errorResponse(400, "bad thing\n    at somewhere").json(); // { error: "bad thing" }
 * ```
 */
export function errorResponse(status: number, message: string, headers: HeadersInit = {}) {
  return json(status, { error: oneLine(message) }, headers);
}

/** The request's path and query, as the router reads them. */
export interface RequestTarget {
  /** The path's segments, each percent-decoded: `/api/runs/a%2Fb` is `["api", "runs", "a/b"]`. */
  segments: string[];
  /** The query string's parameters. */
  query: URLSearchParams;
}

/**
 * Splits a request's URL into decoded path segments and its query. The path is taken as sent:
 * `new URL()` would fold `/api/runs/../config` into `/api/config`, hiding the `..` that the run
 * name check must see and refuse. A malformed escape (`%E0%A4%A`) is a 400.
 *
 * @example
 * ```ts
 * import { requestTarget } from "./http.ts";
 * requestTarget("http://127.0.0.1:7310/api/runs/../config?from=5").segments;
 * // ["api", "runs", "..", "config"]
 * requestTarget("http://127.0.0.1:7310/api/runs/a%2Fb/metrics").segments[2]; // "a/b"
 * ```
 */
export function requestTarget(url: string): RequestTarget {
  // Deno gives the absolute URL with the path exactly as the request line had it.
  const authority = url.indexOf("://");
  const pathStart = url.indexOf("/", authority < 0 ? 0 : authority + 3);
  const rest = pathStart < 0 ? "/" : url.slice(pathStart);
  const hash = rest.indexOf("#");
  const noHash = hash < 0 ? rest : rest.slice(0, hash);
  const q = noHash.indexOf("?");
  const path = q < 0 ? noHash : noHash.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : noHash.slice(q + 1));
  const segments = path.split("/").slice(1).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed escape in the path segment ${JSON.stringify(s)}`);
    }
  });
  return { segments, query };
}

/**
 * The host and port a request's URL names. Deno builds the URL from the `Host` header for a
 * request line with a path (`GET /api/runs`), but takes it as sent from an absolute-form one
 * (`GET http://evil.example/api/runs`), which names its own host whatever `Host` says: both
 * must name this server.
 *
 * @example
 * ```ts
 * import { urlAuthority } from "./http.ts";
 * urlAuthority("http://127.0.0.1:7310/api/runs?x=1"); // "127.0.0.1:7310"
 * urlAuthority("http+unix://localhost:7310/"); // "localhost:7310"
 * urlAuthority("http://evil.example/api/runs"); // "evil.example"
 * ```
 */
export function urlAuthority(url: string): string {
  const start = url.indexOf("://") + 3;
  const end = url.slice(start).search(/[/?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

/**
 * Reads a request's body as JSON, refusing more than `limit` bytes: by `Content-Length` before
 * reading anything, and by counting while reading, for a chunked body that declares no length
 * (413 either way). Bytes that are not UTF-8 or not JSON are a 400 `malformed JSON: ...`.
 *
 * @example
 * ```ts
 * import { readJsonBody } from "./http.ts";
 * const req = new Request("http://127.0.0.1/", { method: "POST", body: '{"a": 1}' });
 * await readJsonBody(req, 64 * 1024); // { a: 1 }
 * ```
 */
export async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const tooBig = () => new HttpError(413, `request body over ${limit} bytes`);
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooBig();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body !== null) {
    const reader = req.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      size += r.value.length;
      if (size > limit) {
        // Stop reading: the rest is never buffered.
        await reader.cancel().catch(() => {});
        throw tooBig();
      }
      chunks.push(r.value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "malformed JSON: the body is not UTF-8");
  }
  if (text.trim() === "") throw new HttpError(400, "malformed JSON: the body is empty");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
  }
}

/** The first line of a message, so an answer is always one line. */
function oneLine(s: string): string {
  return (s.split("\n")[0] ?? "").trim();
}
