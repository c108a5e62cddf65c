// `mechlab serve` as a person runs it: one start line with the link and its token, the API behind
// it, a clean exit on SIGTERM; bad flags and a taken port are one line and exit 2.
import * as assert from "node:assert/strict";
import { mechlab } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("serve: prints the link with its token, serves it, exits on SIGTERM", async () => {
  const runs = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--port", "0", "--runs", runs],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{32})\n$/.exec(out);
    assert.ok(m, JSON.stringify(out));
    const res = await fetch(`http://127.0.0.1:${m[1]}/api/runs`, {
      headers: { authorization: `Bearer ${m[2]}` },
    });
    assert.deepEqual(await res.json(), []);
    const page = await fetch(out.trim(), { redirect: "manual" });
    await page.body?.cancel();
    assert.equal(page.status, 303);
    child.kill("SIGTERM");
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
    assert.equal(out.split("\n").filter((l) => l !== "").length, 1, "one line, no request logs");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already ended
    }
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("serve: bad flags and a taken port are one line and exit 2", async () => {
  const help = await mechlab("serve", "--help");
  assert.equal(help.code, 0);
  for (const flag of ["--port N", "--runs DIR", "--open"]) assert.ok(help.out.includes(flag), flag);
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const cases: [string[], RegExp][] = [
      [["--port", "abc"], /^mechlab: --port abc: expected an integer from 0 to 65535\n$/],
      [["--port", "70000"], /^mechlab: --port 70000: expected an integer/],
      [["--prot", "1"], /^mechlab: unknown flag '--prot'; see --help\n$/],
      [["--port", "0x10"], /^mechlab: --port 0x10: expected an integer from 0 to 65535\n$/],
      [["--port", "-1"], /^mechlab: --port -1: expected an integer from 0 to 65535\n$/],
      [["--runs", MAIN], /^mechlab: --runs .*main\.ts: not a folder\n$/],
      [
        ["--port", String(taken.addr.port)],
        new RegExp(`^mechlab: --port ${taken.addr.port}: in use; choose another, or --port 0`),
      ],
    ];
    for (const [args, pattern] of cases) {
      const { code, out, err } = await mechlab("serve", ...args);
      assert.equal(code, 2, args.join(" "));
      assert.equal(out, "");
      assert.match(err.replace(/^Check .*\n/gm, ""), pattern);
    }
  } finally {
    taken.close();
  }
});
