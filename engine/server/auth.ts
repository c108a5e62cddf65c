/**
 * Who may talk to the server. It listens on 127.0.0.1 only, but any local process and any web
 * page the browser has open can reach 127.0.0.1, so three checks stand between them and the runs:
 *
 * - **Host.** A page on `evil.com` can make its own name resolve to 127.0.0.1 (DNS rebinding) and
 *   then read the answers as same-origin. Its requests still carry `Host: evil.com`, so only
 *   `127.0.0.1:PORT` and `localhost:PORT` are served; any other Host is a 403.
 * - **Origin.** A browser names the page behind a cross-site request in `Origin`; one that is not
 *   this server's own is a 403 (no CORS headers are ever sent, either).
 * - **Token.** 32 random hex characters, printed in the start line. `GET /?token=T` trades it for
 *   an `HttpOnly; SameSite=Strict` cookie (so page scripts cannot read it and other sites' pages
 *   cannot send it) and redirects to `/`, taking it out of the address bar and the history; a
 *   script sends `Authorization: Bearer T` instead.
 *
 * @module
 */

/** The cookie that carries the token (the contract's name). */
export const TOKEN_COOKIE = "mechlab_token";

/**
 * A fresh token: 32 hex characters from the system's cryptographic generator.
 *
 * @example
 * ```ts
 * import { newToken } from "./auth.ts";
 * /^[0-9a-f]{32}$/.test(newToken()); // true
 * ```
 */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether a `Host` header names this server: `127.0.0.1:PORT` or `localhost:PORT` exactly (the
 * name case-insensitively, as DNS), so a rebound name or another port is refused.
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./auth.ts";
 * hostAllowed("localhost:7310", 7310); // true
 * hostAllowed("evil.com:7310", 7310); // false
 * hostAllowed("127.0.0.1:7311", 7310); // false
 * hostAllowed(null, 7310); // false
 * ```
 */
export function hostAllowed(host: string | null, port: number): boolean {
  if (host === null) return false;
  const h = host.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/**
 * Whether an `Origin` header is absent (not a cross-site browser request) or this server's own.
 *
 * @example
 * ```ts
 * import { originAllowed } from "./auth.ts";
 * originAllowed(null, 7310); // true
 * originAllowed("http://127.0.0.1:7310", 7310); // true
 * originAllowed("https://evil.com", 7310); // false
 * ```
 */
export function originAllowed(origin: string | null, port: number): boolean {
  if (origin === null) return true;
  const o = origin.toLowerCase();
  return o === `http://127.0.0.1:${port}` || o === `http://localhost:${port}`;
}

/**
 * Whether a request carries `token`: as `Authorization: Bearer TOKEN` or as the `mechlab_token`
 * cookie. Compared in constant time, so response timing does not leak how much of a guess is
 * right.
 *
 * @example
 * ```ts
 * import { hasToken } from "./auth.ts";
 * const req = new Request("http://127.0.0.1/", { headers: { cookie: "a=1; mechlab_token=abc" } });
 * hasToken(req, "abc"); // true
 * hasToken(req, "abd"); // false
 * ```
 */
export function hasToken(req: Request, token: string): boolean {
  const auth = req.headers.get("authorization");
  const bearer = auth === null ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (bearer !== undefined && tokenMatches(bearer, token)) return true;
  // Every cookie of that name: another local server may have set one too (cookies ignore ports).
  return cookieValues(req.headers.get("cookie"), TOKEN_COOKIE).some((v) => tokenMatches(v, token));
}

/**
 * Whether `candidate` is `token`, compared in time that depends only on the lengths.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./auth.ts";
 * tokenMatches("abc", "abc"); // true
 * tokenMatches("abd", "abc"); // false
 * ```
 */
export function tokenMatches(candidate: string, token: string): boolean {
  let diff = candidate.length ^ token.length;
  for (let i = 0; i < token.length; i++) {
    diff |= (candidate.charCodeAt(i) | 0) ^ token.charCodeAt(i); // NaN past the end: 0
  }
  return diff === 0;
}

/**
 * The `Set-Cookie` value that stores `token` in the browser: `HttpOnly` (no script reads it),
 * `SameSite=Strict` (no other site's page sends it), `Path=/`; a session cookie.
 *
 * @example
 * ```ts
 * import { tokenCookie } from "./auth.ts";
 * tokenCookie("abc"); // "mechlab_token=abc; HttpOnly; SameSite=Strict; Path=/"
 * ```
 */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The values of every cookie called `name` in a `Cookie` header. */
function cookieValues(header: string | null, name: string): string[] {
  if (header === null) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}
