// The loader behind the analysis views: one load at a time, only the latest key's answer shown,
// answers kept for scrubbing back; driven with promises the test resolves by hand.
import * as assert from "node:assert/strict";
import { latestLoader, type Loaded } from "../../ui/analysis/latest.ts";

/** A load whose answers the test gives, and what the loader delivered. */
function harness(keep?: number) {
  const waiting = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const loads: string[] = [];
  const shown: [string, Loaded<string>][] = [];
  const want = latestLoader(
    (key) => {
      loads.push(key);
      return new Promise<string>((resolve, reject) => waiting.set(key, { resolve, reject }));
    },
    { deliver: (key, r) => shown.push([key, r]), ...(keep === undefined ? {} : { keep }) },
  );
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { want, loads, shown, waiting, tick };
}

Deno.test("latestLoader: keys asked for during a load are skipped to the last one", async () => {
  const h = harness();
  h.want("a");
  h.want("b");
  h.want("c");
  assert.deepEqual(h.loads, ["a"]); // one at a time
  h.waiting.get("a")!.resolve("A");
  await h.tick();
  assert.deepEqual(h.loads, ["a", "c"]); // "b" was never loaded: "c" superseded it
  assert.deepEqual(h.shown, []); // "a" is not shown: no longer wanted
  h.waiting.get("c")!.resolve("C");
  await h.tick();
  assert.deepEqual(h.shown, [["c", { value: "C" }]]);
});

Deno.test("latestLoader: kept answers come at once; failures are shown and not kept", async () => {
  const h = harness();
  h.want("a");
  h.waiting.get("a")!.resolve("A");
  await h.tick();
  h.want("b");
  h.want("a"); // kept: shown now, and b's answer (when it comes) is no longer wanted
  assert.deepEqual(h.shown.at(-1), ["a", { value: "A" }]);
  h.waiting.get("b")!.resolve("B");
  await h.tick();
  assert.equal(h.shown.length, 2);
  const boom = new Error("404");
  h.want("x");
  h.waiting.get("x")!.reject(boom);
  await h.tick();
  assert.deepEqual(h.shown.at(-1), ["x", { error: boom }]);
  h.want("x");
  assert.deepEqual(h.loads, ["a", "b", "x", "x"]); // asked again, loaded again
});

Deno.test("latestLoader: null stops wanting; the oldest kept answer goes first", async () => {
  const h = harness(2);
  h.want("a");
  h.want(null);
  h.waiting.get("a")!.resolve("A");
  await h.tick();
  assert.deepEqual(h.shown, []);
  for (const k of ["b", "c"]) {
    h.want(k);
    h.waiting.get(k)!.resolve(k.toUpperCase());
    await h.tick();
  }
  h.want("a"); // a, b, c loaded with room for two: a was dropped
  assert.deepEqual(h.loads, ["a", "b", "c", "a"]);
  h.want("c");
  assert.deepEqual(h.shown.at(-1), ["c", { value: "C" }]);
});
