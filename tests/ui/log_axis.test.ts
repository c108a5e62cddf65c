// The loss chart's log axis: which ticks, and how they read.
import * as assert from "node:assert/strict";
import { formatTick, logTicks } from "../../ui/log_axis.ts";

Deno.test("logTicks: a grokking run's eight decades get every second power of ten", () => {
  assert.deepEqual(logTicks(1e-6, 100), [1e-6, 1e-4, 1e-2, 1, 100]);
  assert.deepEqual(logTicks(1e-3, 10), [1e-3, 1e-2, 0.1, 1, 10]); // 4 decades: each
  assert.deepEqual(logTicks(1e-9, 1e9), [1e-9, 1e-6, 1e-3, 1, 1e3, 1e6, 1e9]); // 18: every third
});

Deno.test("logTicks: 1, 2, 5 within two decades; every digit or the ends when narrower", () => {
  assert.deepEqual(logTicks(1, 10), [1, 2, 5, 10]);
  assert.deepEqual(logTicks(0.1, 10), [0.1, 0.2, 0.5, 1, 2, 5, 10]);
  assert.deepEqual(logTicks(2.1, 7), [3, 4, 5, 6, 7]);
  assert.deepEqual(logTicks(3.1, 3.5), [3.1, 3.5]);
});

Deno.test("logTicks: nothing for a range a log axis cannot have", () => {
  assert.deepEqual(logTicks(0, 10), []);
  assert.deepEqual(logTicks(-1, 10), []);
  assert.deepEqual(logTicks(10, 1), []);
  assert.deepEqual(logTicks(1, Infinity), []);
});

Deno.test("formatTick: plain from 0.001 to 10,000, exponent outside", () => {
  assert.deepEqual([1e-6, 1e-4, 0.001, 0.01, 0.5, 1, 100, 9999, 1e4, 2e-7].map(formatTick), [
    "1e-6",
    "1e-4",
    "0.001",
    "0.01",
    "0.5",
    "1",
    "100",
    "1e4", // 9999 to three digits is 1.00e4
    "1e4",
    "2e-7",
  ]);
});
