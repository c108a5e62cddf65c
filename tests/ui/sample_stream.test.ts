// The prompt box's NDJSON splitting: whole lines out, a torn last line kept for the next chunk.
import * as assert from "node:assert/strict";
import { splitLines } from "../../ui/sample_stream.ts";

Deno.test("sample stream: lines split across chunks come out whole", () => {
  let rest = "";
  const lines: string[] = [];
  for (const chunk of ['{"token":1,', '"prob":0.5}\n{"tok', 'en":2}\n', '\n{"done":true}\n']) {
    const split = splitLines(rest, chunk);
    lines.push(...split.lines);
    rest = split.rest;
  }
  assert.deepEqual(lines, ['{"token":1,"prob":0.5}', '{"token":2}', '{"done":true}']);
  assert.equal(rest, "");
  assert.deepEqual(splitLines("", "a\nb"), { lines: ["a"], rest: "b" });
});
