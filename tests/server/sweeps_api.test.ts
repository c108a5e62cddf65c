// The sweep endpoints against a sweep folder written by hand (tests/server/sweep_fixture.ts):
// `GET /api/sweeps` lists it beside the runs, `GET /api/sweeps/NAME` gives each member's values and
// the outcome of the lines the test wrote, a member opens as a run at `/api/runs/SWEEP%2FMEMBER/`,
// and members that land later (a shard on another machine) appear, with their lines on the stream.
import * as assert from "node:assert/strict";
import { startServer } from "../../engine/server/mod.ts";
import { PATIENCE_MS } from "../helpers.ts";
import { type Event, sse } from "./sse.ts";
import { memberLine, MEMBERS, REACHED, SWEEP, writeMember, writeSweep } from "./sweep_fixture.ts";

Deno.test("serve: sweeps listed, read, their members opened as runs and streamed as they land", async () => {
  const runs = await Deno.makeTempDir();
  const server = await startServer({ port: 0, runs, pollMs: 100, token: "0123456789abcdef0123" });
  const origin = `http://127.0.0.1:${server.port}`;
  const get = (path: string) =>
    fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${server.token}` } });
  try {
    // Two members land first, the rest later.
    await writeSweep(runs, [0, 1]);
    const list = await (await get("/api/sweeps")).json();
    assert.deepEqual(list, [{
      name: SWEEP,
      preset: "smoke",
      axes: ["weight_decay", "frac_train"],
      seeds: 3,
      members: 12,
      landed: 2,
      done: 2,
    }]);
    // The sweep's folder is not a run: the runs list stays empty.
    assert.deepEqual(await (await get("/api/runs")).json(), []);

    const events = sse((await get("/api/events")).body!, PATIENCE_MS);
    await events.next((e) => e.event === "runs");
    await writeMember(runs, 6, 100);
    // Its lines and the list's change come in either order (the list may change first, while
    // the member's folder holds only its config).
    const seen: Record<string, Event> = {};
    while (!(seen.sweeps && seen.metrics)) {
      // (Members 0 and 1 may be news too, if no look came between their landing and connecting.)
      const e = await events.next((e) =>
        (e.event === "sweeps" && e.data[0].landed === 3) ||
        (e.event === "metrics" && e.data.name === `${SWEEP}/${MEMBERS[6]!.name}`)
      );
      seen[e.event] ??= e;
    }
    assert.equal(seen.sweeps!.data[0].landed, 3);
    assert.deepEqual(seen.metrics!.data, {
      name: `${SWEEP}/${MEMBERS[6]!.name}`,
      records: [memberLine(0, null), memberLine(100, null)],
    });
    await events.cancel();

    const detail = await (await get(`/api/sweeps/${SWEEP}`)).json();
    assert.deepEqual(detail.axes, [
      { key: "weight_decay", values: [0.3, 1] },
      { key: "frac_train", values: [0.3, 0.5] },
    ]);
    assert.equal(detail.members.length, 12);
    const [m0, m1] = detail.members;
    assert.deepEqual(m0.values, { weight_decay: 0.3, frac_train: 0.3, seed: 0, data_seed: 598 });
    assert.equal(m0.status, "done");
    assert.deepEqual(m0.outcome, {
      reached: REACHED[0],
      step: 400,
      trainLoss: 1 / 401,
      testLoss: 0.01,
      testAcc: 1,
    });
    assert.equal(m1.outcome.reached, 100);
    assert.equal(m0.curve.length, 5);
    assert.equal(detail.members[2].status, "absent");
    assert.equal(detail.members[2].outcome, null);
    assert.equal(detail.members[6].status, "running");
    assert.equal(detail.members[6].outcome.reached, null);
    assert.equal(detail.members[6].outcome.step, 100);

    // A member is an ordinary run under its sweep.
    const run = encodeURIComponent(m0.run);
    const metrics = await (await get(`/api/runs/${run}/metrics`)).json();
    assert.deepEqual(metrics.at(-1), memberLine(400, REACHED[0]!));
    assert.equal((await (await get(`/api/runs/${run}/config`)).json()).preset, "smoke");

    // Names that are not a sweep's member are refused.
    assert.equal((await get(`/api/sweeps/nope`)).status, 404);
    assert.equal((await get(`/api/runs/${encodeURIComponent("a/b/c")}/config`)).status, 400);
    assert.equal((await get(`/api/runs/${encodeURIComponent(`${SWEEP}/..`)}/config`)).status, 400);
    assert.equal(
      (await get(`/api/runs/${encodeURIComponent(`${SWEEP}/nope`)}/config`)).status,
      404,
    );
  } finally {
    await server.close({ graceMs: 0 });
    await Deno.remove(runs, { recursive: true });
  }
});
