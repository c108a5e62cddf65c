// The page shares the server's API types (engine/server/api_types.ts) and the analysis report's,
// and takes no engine code but pure rules the server applies too: every import from outside ui/
// is `import type` or `export type`, which esbuild erases, or a value from an engine module that
// imports nothing and touches no Deno API (such as engine/analysis/partner.ts, the patching
// partner's rule), so the bundle holds none of the engine's machinery.
import * as assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { bundleInputs } from "../../ui/bundle_inputs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Each import or re-export statement of `text` and its module specifier. */
function imports(text: string): [statement: string, specifier: string][] {
  return [...text.matchAll(/^(import|export)\b[^;]*?from\s+"([^"]+)"/gms)].map((m) => [
    m[0],
    m[2]!,
  ]);
}

/** A module the page may take values from: it imports nothing and uses no Deno API. */
async function selfContained(path: string): Promise<boolean> {
  const text = await Deno.readTextFile(path);
  return imports(text).length === 0 && !/\bDeno\./.test(text);
}

Deno.test("ui: every import from the engine is a type import or a self-contained rule", async () => {
  const offenders: string[] = [];
  let shared = 0;
  for (const path of await bundleInputs(ROOT)) {
    if (!path.startsWith("ui/") || path.endsWith(".css")) continue;
    const text = await Deno.readTextFile(ROOT + path);
    for (const [statement, specifier] of imports(text)) {
      if (!specifier.includes("/engine/")) continue;
      if (specifier.endsWith("/engine/server/api_types.ts")) shared++;
      if (/^(import|export) type\b/.test(statement)) continue;
      if (!await selfContained(join(ROOT, dirname(path), specifier))) {
        offenders.push(`${path}: ${statement}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
  assert.ok(shared >= 1, "ui/ takes the API's types from engine/server/api_types.ts");
});

Deno.test("ui: a value import from an engine module with imports of its own is caught", async () => {
  // The rule's own check: a module that imports (here the tensor library's entry) is refused.
  assert.equal(await selfContained(join(ROOT, "engine/tensor/mod.ts")), false);
  assert.equal(await selfContained(join(ROOT, "engine/analysis/partner.ts")), true);
});
