// Reading a node's Params JSON Schema: defaults, the effective type of a property, and its UI hints.
import type { ParamSchema, ParamsSchema } from "../api/types";

/** The property with `anyOf: [X, null]` unwrapped to X (pydantic's Optional), and `$ref` resolved. */
export function effectiveSchema(prop: ParamSchema, root?: ParamsSchema): ParamSchema & { nullable: boolean } {
  let schema = prop;
  if (schema.$ref && root?.$defs) {
    const ref = root.$defs[schema.$ref.split("/").pop() ?? ""];
    if (ref) schema = { ...ref, ...prop, $ref: undefined };
  }
  if (schema.anyOf) {
    const options = schema.anyOf.filter((o) => o.type !== "null");
    const nullable = options.length < schema.anyOf.length;
    if (options.length === 1) {
      const inner = effectiveSchema(options[0], root);
      const choices = inner.enum ?? (inner.const !== undefined ? [inner.const] : undefined);
      return { ...inner, ...schema, anyOf: undefined, type: inner.type, items: inner.items, enum: choices, nullable };
    }
    return { ...schema, nullable };
  }
  if (schema.const !== undefined && !schema.enum) return { ...schema, enum: [schema.const], nullable: false };
  return { ...schema, nullable: false };
}

/** The parameters a fresh node starts with: every property's default. */
export function defaultParameters(schema: ParamsSchema | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    if (prop.default !== undefined && prop.default !== null) params[name] = structuredClone(prop.default);
  }
  return params;
}
