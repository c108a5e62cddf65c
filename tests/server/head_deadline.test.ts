// Connections that do not finish their request's head (200 at once, as the issue saw) are
// answered 408 and closed, over raw sockets against the real server with the deadline made short
// (200 ms); the bound the test waits is 100 times that, so a loaded machine does not fail it.
// Ordinary requests go on meanwhile, and a connection carries one request, so a second head
// cannot dawdle behind a first.
import * as assert from "node:assert/strict";
import { closeHead } from "../../engine/server/head_deadline.ts";
import { startServer } from "../../engine/server/mod.ts";

const encoder = new TextEncoder();

/** Everything the server sends until it closes the connection, or "(still open)" after `ms`. */
async function readToClose(conn: Deno.Conn, ms: number): Promise<string> {
  const timer = setTimeout(() => conn.close(), ms);
  let text = "";
  const buf = new Uint8Array(65536);
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    return text + "(still open)"; // the timer closed it
  }
  clearTimeout(timer);
  conn.close();
  return text;
}

Deno.test("serve: half-sent requests are answered 408 and closed; whole ones are served", async () => {
  const runs = await Deno.makeTempDir();
  const server = await startServer({ port: 0, runs, headTimeoutMs: 200 });
  const port = server.port;
  const host = `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${server.token}`;
  try {
    const halves = await Promise.all(
      Array.from({ length: 200 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    // Half a head, or nothing at all, or a head missing only its blank line.
    const partial = ["GET /api/runs HTTP/1.1\r\nHo", "", `GET /api/runs HTTP/1.1\r\n${host}\r\n`];
    await Promise.all(halves.map((c, i) => c.write(encoder.encode(partial[i % 3]!))));
    // A whole request on a fresh connection is answered while they wait.
    const whole = await Deno.connect({ hostname: "127.0.0.1", port });
    await whole.write(encoder.encode(`GET /api/runs HTTP/1.1\r\n${host}\r\n\r\n`));
    const answer = await readToClose(whole, 20_000);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /\r\n\r\n\[\]$/); // the body: no runs; then the server closed it
    const answers = await Promise.all(halves.map((c) => readToClose(c, 20_000)));
    for (const a of answers) {
      assert.match(a, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(
        a.endsWith('\r\n\r\n{"error":"the request\'s head did not arrive in time"}'),
        a,
      );
    }
    // Keep-alive asked for, two requests sent: the first is answered, the second not waited for.
    const two = await Deno.connect({ hostname: "127.0.0.1", port });
    const keep = `GET /api/runs HTTP/1.1\r\n${host}\r\nConnection: keep-alive\r\n\r\n`;
    await two.write(encoder.encode(keep + "GET /api/runs HTTP/1.1\r\nHo"));
    const first = await readToClose(two, 20_000);
    assert.equal(first.match(/HTTP\/1\.1 /g)?.length, 1, first);
    assert.match(first, /^HTTP\/1\.1 200 [^]*connection: close\r\n/i);
    assert.ok(!first.endsWith("(still open)"), first);
  } finally {
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("closeHead: the client's connection headers give way to Connection: close", () => {
  const head =
    "POST /api/runs HTTP/1.1\nHost: a\nKeep-Alive: timeout=5\nCONNECTION : keep-alive\nX: 1";
  assert.equal(
    closeHead(head),
    "POST /api/runs HTTP/1.1\r\nHost: a\r\nX: 1\r\nConnection: close\r\n\r\n",
  );
});
