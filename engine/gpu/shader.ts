/**
 * WGSL as real `.wgsl` text with a few named `{{PLACEHOLDERS}}`, filled by one function, and
 * compiled with loud errors: the message names the file, line and column, and carries the shader's
 * source with line numbers, so a bad kernel is found from the error alone.
 *
 * @module
 */

/** A value a placeholder can take: numbers are written as WGSL literals by `String()`. */
export type TemplateValue = string | number | boolean;

/**
 * Replaces every `{{NAME}}` in `source` with `values.NAME`. Throws if the source names a
 * placeholder that has no value, if a value fills no placeholder (a typo would otherwise pass
 * silently), or if a value holds a newline (it would shift the line numbers of compile errors).
 *
 * @example
 * ```ts
 * import { fillTemplate } from "./shader.ts";
 * fillTemplate("const M: u32 = {{M}}u;", { M: 17 }); // "const M: u32 = 17u;"
 * ```
 */
export function fillTemplate(source: string, values: Record<string, TemplateValue>): string {
  const used = new Set<string>();
  const out = source.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`shader placeholder {{${name}}} has no value`);
    const text = String(value);
    if (text.includes("\n")) throw new Error(`shader placeholder {{${name}}} holds a newline`);
    used.add(name);
    return text;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`shader has no placeholder {{${unused.join("}}, {{")}}}`);
  return out;
}

/** A WGSL compile error: its message names `label:line:col` and ends with the numbered source. */
export class ShaderError extends Error {
  override name = "ShaderError";
}

/** The source with line numbers, as a compile error shows it. */
function numbered(source: string): string {
  const lines = source.split("\n");
  const width = String(lines.length).length;
  return lines.map((line, i) => `${String(i + 1).padStart(width)} | ${line}`).join("\n");
}

/**
 * Compiles `source` into a shader module, throwing a `ShaderError` on any compile error. The first
 * line of the message is `LABEL:LINE:COL: MESSAGE` and the offending line follows it.
 *
 * @example
 * ```ts ignore
 * import { compileShader } from "./shader.ts";
 * const module = await compileShader(device, "@compute @workgroup_size(1) fn main() {}", "noop.wgsl");
 * ```
 */
export async function compileShader(
  device: GPUDevice,
  source: string,
  label: string,
): Promise<GPUShaderModule> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: source, label });
  const [info, scopeError] = await Promise.all([
    module.getCompilationInfo(),
    device.popErrorScope(),
  ]);
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length === 0 && scopeError === null) return module;
  const lines = source.split("\n");
  const first = errors[0];
  const head = first === undefined
    ? `${label}: ${scopeError?.message.trim().split("\n")[0]}`
    : `${label}:${first.lineNum}:${first.linePos}: ${
      first.message.trim().split("\n")[0]?.replace(/^Shader '.*?' /, "")
    }\n  ${first.lineNum} | ${lines[first.lineNum - 1] ?? ""}`;
  const all = errors.map((m) => m.message.trim()).join("\n") || (scopeError?.message ?? "");
  throw new ShaderError(`${head}\n\n${all}\n\n${numbered(source)}`);
}
