// The server's API against a runs folder written here by hand (configs from resolveConfig, metrics
// lines, safetensors checkpoints), so every answer is checked against what the test wrote: each
// endpoint's JSON, the event stream, and every way a request can be refused (Host, Origin, token,
// names, sizes, bodies), with the server still answering afterwards.
import * as assert from "node:assert/strict";
import { writeSafetensorsAtomic } from "../../engine/runs/mod.ts";
import { startServer } from "../../engine/server/mod.ts";
import { tensor } from "../../engine/tensor/mod.ts";
import { PRESETS, resolveConfig } from "../../engine/train/presets.ts";
import { TASK_NAMES } from "../../engine/data/mod.ts";
import { PATIENCE_MS } from "../helpers.ts";
import { sse } from "./sse.ts";

const ALPHA_TIME = new Date("2026-01-02T03:04:05.000Z");
const BETA_TIME = new Date("2026-01-01T00:00:00.000Z");

/** Writes the fake runs; returns what each was given. */
async function writeRuns(runs: string) {
  const alphaConfig = resolveConfig("smoke", { train: { steps: 100 } }, "0.1.0");
  const alphaMetrics = [
    { step: 0, "train/loss": 3.1, "test/acc": 0.04 },
    { step: 50, "train/loss": 0.5, "test/acc": 0.5 },
    { step: 100, "train/loss": 0.01, "test/acc": 1 },
  ];
  await Deno.mkdir(`${runs}/alpha/checkpoints`, { recursive: true });
  await Deno.writeTextFile(`${runs}/alpha/config.json`, JSON.stringify(alphaConfig, null, 2));
  await Deno.writeTextFile(
    `${runs}/alpha/metrics.jsonl`,
    alphaMetrics.map((m) => JSON.stringify(m) + "\n").join(""),
  );
  const w = { "embed.W_E": tensor([1, 2, 3, 4], [2, 2], "f32") };
  for (const step of [100, 50]) {
    const name = `step_${String(step).padStart(6, "0")}.safetensors`;
    await writeSafetensorsAtomic(`${runs}/alpha/checkpoints/${name}`, w, { step: String(step) });
  }
  await writeSafetensorsAtomic(`${runs}/alpha/checkpoints/final.safetensors`, w, { step: "100" });
  await Deno.utime(`${runs}/alpha/config.json`, ALPHA_TIME, ALPHA_TIME);

  const betaConfig = resolveConfig("oocl", { task: { p: 11 } }, "0.1.0");
  await Deno.mkdir(`${runs}/beta`);
  await Deno.writeTextFile(`${runs}/beta/config.json`, JSON.stringify(betaConfig));
  // A NaN loss is logged as null; the last line is torn (no newline) and must not count.
  await Deno.writeTextFile(
    `${runs}/beta/metrics.jsonl`,
    '{"step":0,"train/loss":4.2}\n{"step":500,"train/loss":null}\n{"step":1000,"tra',
  );
  await Deno.utime(`${runs}/beta/config.json`, BETA_TIME, BETA_TIME);

  await Deno.mkdir(`${runs}/no_config`); // not a run
  await Deno.mkdir(`${runs}/bad name`); // not a run name
  await Deno.symlink(`${runs}/alpha`, `${runs}/link`); // a link: could lead anywhere
  return { alphaConfig, alphaMetrics, betaConfig };
}

/**
 * A request over a raw socket (fetch will not send a foreign Host or a `..` path), read up to the
 * end of the answer's body: a refused upload's connection stays open for the rest of its body.
 */
async function raw(
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head.replaceAll("\n", "\r\n") + "\r\n" + body));
    let text = "";
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    while (true) {
      const end = text.indexOf("\r\n\r\n");
      const length = /^content-length: (\d+)$/im.exec(text.slice(0, end))?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) break;
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    return { status: Number(text.split(" ")[1]), text };
  } finally {
    conn.close();
  }
}

/** The JSON error body of a raw answer: one line. */
function rawError(text: string): string {
  const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).error;
  assert.equal(typeof body, "string");
  assert.ok(!body.includes("\n"));
  return body;
}

type Written = Awaited<ReturnType<typeof writeRuns>>;

async function withServer(
  fn: (
    s: { origin: string; port: number; token: string; runs: string } & Written,
  ) => Promise<void>,
): Promise<void> {
  const runs = await Deno.makeTempDir();
  const written = await writeRuns(runs); // before the start: history, not news, for the events
  const server = await startServer({ port: 0, runs });
  try {
    await fn({
      origin: `http://127.0.0.1:${server.port}`,
      port: server.port,
      token: server.token,
      runs,
      ...written,
    });
  } finally {
    await server.close();
    await Deno.remove(runs, { recursive: true });
  }
}

Deno.test("serve: every endpoint's JSON against the runs written here", async () => {
  await withServer(async ({ origin, token, alphaConfig, alphaMetrics, betaConfig }) => {
    const auth = { authorization: `Bearer ${token}` };
    const get = async (path: string) => {
      const res = await fetch(origin + path, { headers: auth });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, /^application\/json/);
      return await res.json();
    };
    assert.deepEqual(await get("/api/runs"), [
      {
        name: "alpha",
        task: "modular",
        preset: "smoke",
        status: "finished",
        step: 100,
        steps: 100,
        metrics: alphaMetrics[2],
        started: ALPHA_TIME.toISOString(),
      },
      {
        name: "beta",
        task: "oocl",
        preset: "oocl",
        status: "stopped",
        step: 500,
        steps: 50000,
        metrics: { step: 500, "train/loss": null },
        started: BETA_TIME.toISOString(),
      },
    ]);
    assert.deepEqual(await get("/api/runs/alpha/config"), JSON.parse(JSON.stringify(alphaConfig)));
    assert.deepEqual(await get("/api/runs/beta/config"), JSON.parse(JSON.stringify(betaConfig)));
    assert.deepEqual(await get("/api/runs/alpha/metrics"), alphaMetrics);
    assert.deepEqual(await get("/api/runs/alpha/metrics?from=50"), alphaMetrics.slice(1));
    assert.deepEqual(await get("/api/runs/alpha/metrics?from=101"), []);
    assert.deepEqual(await get("/api/runs/beta/metrics"), [
      { step: 0, "train/loss": 4.2 },
      { step: 500, "train/loss": null },
    ]);
    assert.deepEqual(await get("/api/runs/alpha/checkpoints"), [
      { step: 50, file: "step_000050.safetensors" },
      { step: 100, file: "step_000100.safetensors" },
      { step: 100, file: "final.safetensors" },
    ]);
    assert.deepEqual(await get("/api/runs/beta/checkpoints"), []);
    const presets = await get("/api/presets");
    // Each preset whole, as it trains: what it sets, and the defaults it leaves.
    for (const [name, preset] of Object.entries(PRESETS)) {
      const { task, model, train } = resolveConfig(name, {}, "0.1.0");
      assert.deepEqual(
        presets.presets[name],
        JSON.parse(JSON.stringify({ why: preset.why, task, model, train })),
      );
    }
    assert.equal(presets.presets.grokking.train.steps, 25000); // the paper's, a default
    assert.equal(presets.presets.smoke.model.d_model, 64); // the preset's own
    assert.equal(presets.default, "smoke"); // the server was told of no hardware GPU
    assert.match(presets.why, /no hardware GPU/);
    // The choices, as the config's documentation lists them; each one trains (resolves).
    assert.deepEqual(presets.choices, {
      task: {
        task: TASK_NAMES.filter((t) => t !== "pretrained"), // an imported model's: nothing to train
        op: ["add", "sub", "mul", "div", "ssq", "x2xyy2", "x3xy"],
      },
      model: {
        act_fn: ["relu", "gelu", "gelu_new"],
        normalization_type: ["LN", null],
        positional_embedding_type: ["standard", "shortformer"],
        trainable_biases: ["all", "mlp"],
      },
      train: { schedule: ["constant", "cosine"] },
      device: ["auto", "gpu", "cpu"],
    });
    for (const part of ["task", "model", "train"] as const) {
      for (const [field, values] of Object.entries(presets.choices[part])) {
        for (const value of values as unknown[]) {
          const config = resolveConfig("smoke", { [part]: { [field]: value } }, "0.1.0");
          assert.equal((config[part] as unknown as Record<string, unknown>)[field], value);
        }
      }
    }

    // Static files need no token; the page forbids scripts from elsewhere.
    const page = await fetch(origin + "/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.match(await page.text(), /<div id="app">/);
    const js = await fetch(origin + "/app.js");
    assert.match(js.headers.get("content-type")!, /^text\/javascript/);
    await js.body?.cancel();
    const css = await fetch(origin + "/app.css");
    assert.match(css.headers.get("content-type")!, /^text\/css/);
    await css.body?.cancel();
  });
});

Deno.test("serve: the token, as a bearer or as the cookie /?token= sets", async () => {
  await withServer(async ({ origin, token }) => {
    const status = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(origin + path, { headers, redirect: "manual" });
      const body = res.status === 303 ? undefined : await res.json();
      return { res, body };
    };
    for (const headers of [{}, { authorization: "Bearer 0123" }, { cookie: "mechlab_token=x" }]) {
      for (const path of ["/api/runs", "/api/presets", "/api/events", "/api/runs/a/config"]) {
        const { res, body } = await status(path, headers);
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.match(body.error, /token/);
      }
    }
    const bad = await status("/?token=" + "0".repeat(32));
    assert.equal(bad.res.status, 401);

    const login = await fetch(`${origin}/?token=${token}`, { redirect: "manual" });
    await login.body?.cancel();
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), "/");
    const cookie = login.headers.get("set-cookie")!;
    assert.match(cookie, new RegExp(`^mechlab_token=${token};`));
    for (const attr of ["HttpOnly", "SameSite=Strict", "Path=/"]) {
      assert.ok(cookie.split("; ").includes(attr), `${attr} in ${cookie}`);
    }
    const withCookie = await status("/api/runs", { cookie: `theme=dark; ${cookie.split(";")[0]}` });
    assert.equal(withCookie.res.status, 200);
    assert.deepEqual(withCookie.body.map((r: { name: string }) => r.name), ["alpha", "beta"]);
  });
});

Deno.test("serve: foreign Host and Origin, bad names, big and bad bodies; still answering", async () => {
  await withServer(async ({ origin, port, token }) => {
    const bearer = `Authorization: Bearer ${token}`;
    const ok = `Host: 127.0.0.1:${port}`;
    const close = "Connection: close";
    const req = (line: string, ...headers: string[]) => [line, ...headers, close, ""].join("\n");

    // DNS rebinding: the right port under another name, or the right name on another port.
    for (const host of [`evil.com:${port}`, `127.0.0.1:${port + 1}`, `localhost`, `127.0.0.1`]) {
      const r = await raw(port, req("GET /api/runs HTTP/1.1", `Host: ${host}`, bearer));
      assert.equal(r.status, 403, host);
      assert.match(rawError(r.text), /Host must be/);
      assert.equal((await raw(port, req("GET / HTTP/1.1", `Host: ${host}`))).status, 403);
    }
    // A request line naming another host (absolute form) is refused as a foreign Host is.
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      const r = await raw(port, req(`GET http://${host}/api/runs HTTP/1.1`, ok, bearer));
      assert.equal(r.status, 403, host);
      assert.match(rawError(r.text), /^the request line's host must be 127\.0\.0\.1:/);
    }
    const absolute = req(`GET http://localhost:${port}/api/runs HTTP/1.1`, ok, bearer);
    assert.equal((await raw(port, absolute)).status, 200);
    assert.equal((await raw(port, req("GET /api/runs HTTP/1.1", ok, bearer))).status, 200);
    assert.equal(
      (await raw(port, req("GET /api/runs HTTP/1.1", `Host: LOCALHOST:${port}`, bearer))).status,
      200,
    );
    const cross = await raw(
      port,
      req("GET /api/runs HTTP/1.1", ok, bearer, "Origin: http://evil.com"),
    );
    assert.equal(cross.status, 403);

    // Names that would leave the runs folder: each a 400 naming the run name. (`a%2Fb` is a
    // sweep's member, SWEEP/MEMBER: a 404 here, tests/server/sweeps_api.test.ts.)
    for (
      const name of ["..", "%2e%2e", "a%2Fb%2Fc", "a%2F..", "%2Fetc", "a%00b", "..%2Fetc", "a%5Cb"]
    ) {
      for (const what of ["config", "metrics", "checkpoints"]) {
        const r = await raw(port, req(`GET /api/runs/${name}/${what} HTTP/1.1`, ok, bearer));
        assert.equal(r.status, 400, `${name}/${what}: ${r.text}`);
        assert.match(rawError(r.text), /^run name /);
      }
      const stop = await raw(
        port,
        req(`POST /api/runs/${name}/stop HTTP/1.1`, ok, bearer, "Content-Length: 0"),
      );
      assert.equal(stop.status, 400, name);
    }
    const escape = await raw(port, req("GET /api/runs/%E0%A4%A/config HTTP/1.1", ok, bearer));
    assert.equal(escape.status, 400);

    const auth = { authorization: `Bearer ${token}` };
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(origin + path, { ...init, headers: { ...auth, ...init.headers } });
      const body = await res.json();
      if (res.status >= 400) {
        assert.equal(typeof body.error, "string");
        assert.ok(!body.error.includes("\n"), body.error);
      }
      return { status: res.status, body, res };
    };
    // Absent: unknown runs, a folder without config.json, a link, a run not running here.
    for (const path of ["nope/config", "no_config/metrics", "link/config", "alpha/log"]) {
      const r = await call(`/api/runs/${path}`);
      assert.equal(r.status, 404, path);
    }
    assert.equal((await call("/api/runs/alpha/stop", { method: "POST" })).status, 404);
    assert.equal((await call("/api/nope")).status, 404);
    assert.equal((await call("/api/runs/alpha/nope")).status, 404);
    assert.equal((await call("/nope")).status, 404);
    const bad = await call("/api/runs/alpha/metrics?from=abc");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^from "abc": not a number$/);
    const del = await call("/api/runs", { method: "DELETE" });
    assert.equal(del.status, 405);
    assert.equal(del.res.headers.get("allow"), "GET, POST");

    // Bodies: over 64 KiB by Content-Length (refused unread), or by counting a chunked stream.
    const declared = await raw(
      port,
      req(
        "POST /api/runs HTTP/1.1",
        ok,
        bearer,
        "Content-Type: application/json",
        "Content-Length: 70000",
      ),
      "{}",
    );
    assert.equal(declared.status, 413, declared.text);
    assert.match(rawError(declared.text), /over 65536 bytes/);
    const chunk = new TextEncoder().encode(" ".repeat(10_000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 7) c.enqueue(chunk);
        else c.close();
      },
    });
    const chunked = await call("/api/runs", { method: "POST", body: stream });
    assert.equal(chunked.status, 413);

    const post = (body: string) => call("/api/runs", { method: "POST", body });
    const cases: [string, number, RegExp][] = [
      ['{"preset": "smoke"', 400, /^malformed JSON: /],
      ["", 400, /^malformed JSON: the body is empty$/],
      ["[1, 2]", 400, /^the body must be a JSON object$/],
      ['{"preset": "nope"}', 400, /^unknown preset 'nope' \(grokking, oocl, smoke\b.*\)$/],
      ["{}", 400, /^preset: missing/],
      ['{"preset": "smoke", "colour": 1}', 400, /^unknown field 'colour'/],
      [
        '{"preset": "smoke", "overrides": {"train": {"stpes": 1}}}',
        400,
        /^overrides\.train\.stpes: unknown field/,
      ],
      [
        '{"preset": "smoke", "overrides": {"task": {"p": "7"}}}',
        400,
        /^overrides\.task\.p "7": expected a number$/,
      ],
      ['{"preset": "smoke", "overrides": {"task": {"p": 1e999}}}', 400, /not a finite number/],
      ['{"preset": "smoke", "overrides": {"model": {"d_vocab": 9}}}', 400, /set by the task/],
      ['{"preset": "smoke", "overrides": {"train": {"eps": 1e-6}}}', 400, /no flag/],
      ['{"preset": "smoke", "overrides": {"task": {"op": "div", "p": 12}}}', 400, /prime/],
      [
        '{"preset": "oocl", "overrides": {"model": {"attn_only": false}}}',
        400,
        /^overrides\.model\.attn_only false: train has no flag/,
      ],
      ['{"preset": "smoke", "name": "../x"}', 400, /^run name "\.\.\/x"/],
      ['{"preset": "smoke", "device": "tpu"}', 400, /^device "tpu": expected auto, gpu or cpu$/],
      ['{"preset": "smoke", "name": "alpha"}', 409, /^run 'alpha' exists/],
    ];
    for (const [body, code, pattern] of cases) {
      const r = await post(body);
      assert.equal(r.status, code, body);
      assert.match(r.body.error, pattern, body);
    }
    // After all of that, it still answers, and nothing was started.
    const list = await call("/api/runs");
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((r: { name: string }) => r.name), ["alpha", "beta"]);
  });
});

Deno.test("serve: events stream new metrics lines and new runs", async () => {
  await withServer(async ({ origin, token, runs }) => {
    const res = await fetch(`${origin}/api/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const events = sse(res.body!, PATIENCE_MS);
    try {
      const first = await events.next();
      assert.equal(first.event, "runs");
      assert.deepEqual(first.data.map((r: { name: string }) => r.name), ["alpha", "beta"]);
      // Finishing beta's torn line and adding one: both arrive, nothing before them.
      await Deno.writeTextFile(
        `${runs}/beta/metrics.jsonl`,
        'in/loss":1.5}\n{"step":1500,"train/loss":1.25}\n',
        { append: true },
      );
      const m = await events.next();
      assert.deepEqual(m, {
        event: "metrics",
        data: {
          name: "beta",
          records: [{ step: 1000, "train/loss": 1.5 }, { step: 1500, "train/loss": 1.25 }],
        },
      });
      // A new run folder: the list changes and its lines are all news.
      await Deno.mkdir(`${runs}/gamma`);
      await Deno.writeTextFile(`${runs}/gamma/metrics.jsonl`, '{"step":0,"test/acc":0.25}\n');
      await Deno.writeTextFile(
        `${runs}/gamma/config.json`,
        JSON.stringify(resolveConfig("smoke", { train: { steps: 10 } }, "0.1.0")),
      );
      const got = [await events.next(), await events.next()];
      const metrics = got.find((e) => e.event === "metrics");
      assert.deepEqual(metrics?.data, { name: "gamma", records: [{ step: 0, "test/acc": 0.25 }] });
      const list = got.find((e) => e.event === "runs");
      assert.deepEqual(list?.data.map((r: { name: string }) => r.name).sort(), [
        "alpha",
        "beta",
        "gamma",
      ]);
    } finally {
      await events.cancel();
    }
  });
});

Deno.test("serve: a checkpoints/ that is a symbolic link lists nothing from where it leads", async () => {
  await withServer(async ({ origin, token, runs }) => {
    const outside = await Deno.makeTempDir();
    try {
      const tensors = { w: tensor([1], [1], "f32") };
      await writeSafetensorsAtomic(`${outside}/step_000777.safetensors`, tensors, { step: "777" });
      await Deno.remove(`${runs}/beta/checkpoints`, { recursive: true }).catch(() => {});
      await Deno.symlink(outside, `${runs}/beta/checkpoints`);
      const res = await fetch(`${origin}/api/runs/beta/checkpoints`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), []);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});
