// The page shares the server's API types (engine/server/api_types.ts) and the analysis report's,
// and takes nothing else from the engine: every import from outside ui/ is `import type` or
// `export type`, which esbuild erases, so the bundle holds none of the engine's code.
import * as assert from "node:assert/strict";
import { bundleInputs } from "../../ui/bundle_inputs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("ui: every import from the engine is a type import", async () => {
  const offenders: string[] = [];
  let shared = 0;
  for (const path of await bundleInputs(ROOT)) {
    if (!path.startsWith("ui/") || path.endsWith(".css")) continue;
    const text = await Deno.readTextFile(ROOT + path);
    // Each import or re-export statement, up to its module specifier.
    for (const m of text.matchAll(/^(import|export)\b[^;]*?from\s+"([^"]+)"/gms)) {
      const [statement, , specifier] = m;
      if (!specifier!.includes("/engine/")) continue;
      if (specifier!.endsWith("/engine/server/api_types.ts")) shared++;
      if (!/^(import|export) type\b/.test(statement)) offenders.push(`${path}: ${statement}`);
    }
  }
  assert.deepEqual(offenders, []);
  assert.ok(shared >= 1, "ui/ takes the API's types from engine/server/api_types.ts");
});
