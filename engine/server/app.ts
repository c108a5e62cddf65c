/**
 * The request handler: checks `Host` and `Origin` (403), serves the page's three static files, trades
 * `/?token=` for a cookie, checks the token on every `/api/` request (401), and routes to the run
 * endpoints. Whatever a handler throws becomes a JSON error answer, so no request can stop the
 * server. Every answer carries headers that keep it out of caches, frames and other sites.
 *
 * @module
 */

import { analyzeLog, launchAnalysis, runAnalysis, runInspect } from "./analysis_api.ts";
import { runSample } from "./sample_api.ts";
import { getSweep, listSweeps } from "./sweeps_api.ts";
import { runDetect, runPatch, runSequence, runVocab } from "./sequence_api.ts";
import { hasToken, hostAllowed, originAllowed, tokenCookie, tokenMatches } from "./auth.ts";
import { errorResponse, HttpError, requestTarget, urlAuthority } from "./http.ts";
import { RunInputError } from "../runs/mod.ts";
import {
  launchRun,
  listRuns,
  presets,
  runCheckpoints,
  runConfig,
  runLog,
  runMetrics,
  type RunsApi,
  stopRun,
} from "./runs_api.ts";

type RunHandler = (
  api: RunsApi,
  name: string,
  query: URLSearchParams,
  req: Request,
) => Promise<Response> | Response;

/**
 * The endpoints under `/api/runs/NAME/`, by their last segment and method; what varies within one
 * (a step, an example) is a query parameter (`analysis?step=S`, `inspect?step=S&example=I`,
 * `sequence?step=S&prompt=TEXT`, `patch?step=S&example=I`, `detect?step=S`, `sample?prompt=TEXT`).
 */
const RUN_ENDPOINTS: Record<string, { GET?: RunHandler; POST?: RunHandler }> = {
  config: { GET: (api, name) => runConfig(api, name) },
  metrics: { GET: (api, name, q) => runMetrics(api, name, q.get("from")) },
  checkpoints: { GET: (api, name) => runCheckpoints(api, name) },
  log: { GET: (api, name) => runLog(api, name) },
  stop: { POST: (api, name) => stopRun(api, name) },
  analysis: { GET: (api, name, q) => runAnalysis(api, name, q.get("step")) },
  analyze: {
    GET: (api, name) => analyzeLog(api, name),
    POST: (api, name) => launchAnalysis(api, name),
  },
  inspect: { GET: (api, name, q) => runInspect(api, name, q) },
  sequence: { GET: (api, name, q, req) => runSequence(api, name, q, req.signal) },
  patch: { GET: (api, name, q, req) => runPatch(api, name, q, req.signal) },
  detect: { GET: (api, name, q, req) => runDetect(api, name, q, req.signal) },
  vocab: { GET: (api, name) => runVocab(api, name) },
  sample: { GET: (api, name, q) => runSample(api, name, q) },
};

/** The page: its HTML, script and style sheet. */
export interface Assets {
  html: string;
  js: string;
  css: string;
}

/** What the handler needs. */
export interface AppOptions {
  token: string;
  /** The port the server listens on (known only once it does). */
  port: () => number;
  assets: Assets;
  api: RunsApi;
}

/** Scripts only from the server itself; styles may be set inline (chart libraries do). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const SAFE_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

/**
 * The server's request handler.
 *
 * @example
 * ```ts
 * import { createHandler } from "./app.ts";
 * import type { RunsApi } from "./runs_api.ts";
 * const handle = createHandler({
 *   token: "t",
 *   port: () => 7310,
 *   assets: { html: "<!doctype html>", js: "", css: "" },
 *   api: {} as RunsApi, // not reached by these requests
 * });
 * (await handle(new Request("http://127.0.0.1:7310/", { headers: { host: "127.0.0.1:7310" } }))).status; // 200
 * (await handle(new Request("http://evil.com:7310/", { headers: { host: "evil.com:7310" } }))).status; // 403
 * (await handle(new Request("http://127.0.0.1:7310/api/runs", { headers: { host: "127.0.0.1:7310" } }))).status; // 401
 * ```
 */
export function createHandler(options: AppOptions): (req: Request) => Promise<Response> {
  return async (req) => {
    let res: Response;
    try {
      res = await route(req, options);
    } catch (e) {
      res = e instanceof HttpError
        ? errorResponse(e.status, e.message, e.headers)
        : e instanceof RunInputError // a corrupt run file: the folder's fault, named in one line
        ? errorResponse(422, e.message.split("\n")[0]!)
        : errorResponse(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
    }
    for (const [k, v] of Object.entries(SAFE_HEADERS)) res.headers.set(k, v);
    if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    return res;
  };
}

async function route(req: Request, options: AppOptions): Promise<Response> {
  const port = options.port();
  const here = `127.0.0.1:${port} or localhost:${port}`;
  if (!hostAllowed(req.headers.get("host"), port)) throw new HttpError(403, `Host must be ${here}`);
  // The request line may name a host of its own (absolute form): it must be this server too.
  if (!hostAllowed(urlAuthority(req.url), port)) {
    throw new HttpError(403, `the request line's host must be ${here}`);
  }
  if (!originAllowed(req.headers.get("origin"), port)) {
    throw new HttpError(403, "cross-origin requests are refused");
  }
  const { segments, query } = requestTarget(req.url);
  if (segments[0] !== "api") return page(req, segments, query, options);
  if (!hasToken(req, options.token)) {
    throw new HttpError(401, "missing or wrong token: open the link `mechlab serve` printed");
  }
  const api = options.api;
  const [, resource, name, action, ...extra] = segments;
  if (resource === "presets" && name === undefined) {
    allow(req, "GET");
    return presets(await api.hardwareGpu);
  }
  if (resource === "events" && name === undefined) {
    allow(req, "GET");
    return api.hub.connect();
  }
  if (resource === "sweeps" && action === undefined) {
    allow(req, "GET");
    return name === undefined ? await listSweeps(api) : await getSweep(api, name);
  }
  if (resource === "runs" && name === undefined) {
    if (allow(req, "GET", "POST") === "POST") return await launchRun(api, req);
    return await listRuns(api);
  }
  if (resource === "runs" && name !== undefined && action !== undefined && extra.length === 0) {
    const endpoint = RUN_ENDPOINTS[action];
    if (endpoint !== undefined) {
      const handle = endpoint[allow(req, ...Object.keys(endpoint)) as keyof typeof endpoint]!;
      return await handle(api, name, query, req);
    }
  }
  throw new HttpError(404, `no endpoint ${req.method} /${segments.join("/")}`);
}

/** `/`, `/app.js`, `/app.css`, and the token-for-cookie trade at `/?token=`. */
function page(
  req: Request,
  segments: string[],
  query: URLSearchParams,
  options: AppOptions,
): Response {
  const path = segments.join("/");
  const file = path === ""
    ? { body: options.assets.html, type: "text/html; charset=utf-8" }
    : path === "app.js"
    ? { body: options.assets.js, type: "text/javascript; charset=utf-8" }
    : path === "app.css"
    ? { body: options.assets.css, type: "text/css; charset=utf-8" }
    : undefined;
  if (file === undefined) throw new HttpError(404, `not found: /${path}`);
  allow(req, "GET");
  const token = query.get("token");
  if (path === "" && token !== null) {
    if (!tokenMatches(token, options.token)) {
      throw new HttpError(401, "wrong token in the address: open the link `mechlab serve` printed");
    }
    // The token leaves the address bar (and the history) for an HttpOnly cookie.
    return new Response(null, {
      status: 303,
      headers: { location: "/", "set-cookie": tokenCookie(options.token) },
    });
  }
  const headers: Record<string, string> = { "content-type": file.type };
  if (path === "") headers["content-security-policy"] = CSP;
  return new Response(file.body, { headers });
}

/** The request's method if it is one of `methods`, else a 405 naming them. */
function allow(req: Request, ...methods: string[]): string {
  if (!methods.includes(req.method)) {
    throw new HttpError(405, `${req.method} is not allowed here (${methods.join(", ")})`, {
      allow: methods.join(", "),
    });
  }
  return req.method;
}
