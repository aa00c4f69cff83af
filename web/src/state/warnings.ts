// Warnings nodes report without failing (a header that looks like data, a likely separator): from the shown
// run, from the sample the editor previews, or from an upload. A warning whose fix the node's parameters
// already hold is settled and no longer shown.
import type { NodeWarning } from "../api/types";

const NONE: NodeWarning[] = [];

/** True when every parameter value of the warning's fix is already set on the node. */
export function fixApplied(warning: NodeWarning, parameters: Record<string, unknown>): boolean {
  const fix = warning.fix;
  if (!fix || !Object.keys(fix).length) return false;
  return Object.entries(fix).every(([name, value]) => JSON.stringify(parameters[name]) === JSON.stringify(value));
}

/** The warnings still worth showing: each once (by code and message), without the settled ones. */
export function openWarnings(
  sources: (NodeWarning[] | undefined)[],
  parameters: Record<string, unknown>,
): NodeWarning[] {
  const seen = new Set<string>();
  const open: NodeWarning[] = [];
  for (const warning of sources.flatMap((s) => s ?? NONE)) {
    const key = `${warning.code}|${warning.message}`;
    if (seen.has(key) || fixApplied(warning, parameters)) continue;
    seen.add(key);
    open.push(warning);
  }
  return open.length ? open : NONE;
}

/** `{has_header: false, separator: ";"}` as `has_header = false, separator = ";"`. */
export function fixText(fix: Record<string, unknown>): string {
  return Object.entries(fix)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(", ");
}

/** A warning's message as a sentence (nodes write them in lower case, to be quoted inside other text). */
export function warningText(warning: NodeWarning): string {
  return warning.message.charAt(0).toUpperCase() + warning.message.slice(1);
}
