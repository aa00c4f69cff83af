import { useEffect, useState } from "react";
import type { ParamSchema } from "../../api/types";
import type { FieldProps } from "../ParameterField";

/** A value that may be text, a number, a boolean or a list (e.g. a filter's value): typed as text, read back as
 * the most specific type the schema allows ("3" → 3, "true" → true, "a, b" → ["a", "b"] when lists are allowed). */
export function FlexibleInput({ id, label, schema, value, invalid, onChange }: FieldProps<unknown>) {
  const shown = Array.isArray(value) ? value.join(", ") : value == null ? "" : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => setText((current) => (current.trim() === shown ? current : shown)), [shown]);
  const types = new Set((schema.anyOf ?? []).map((o: ParamSchema) => o.type));
  const hint = [...types].filter((t) => t && t !== "null").join(" or ");

  const read = (raw: string): unknown => {
    const trimmed = raw.trim();
    if (trimmed === "") return undefined;
    if (types.has("array") && trimmed.includes(",")) return trimmed.split(",").map((s) => scalar(s.trim())).filter((s) => s !== "");
    return scalar(trimmed);
  };
  const scalar = (s: string): unknown => {
    if ((types.has("number") || types.has("integer")) && s !== "" && !Number.isNaN(Number(s))) return Number(s);
    if (types.has("boolean") && (s === "true" || s === "false")) return s === "true";
    return s;
  };

  return (
    <input
      id={id}
      className={`input ${invalid ? "invalid" : ""}`}
      type="text"
      aria-label={label}
      aria-invalid={invalid || undefined}
      placeholder={hint}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(read(e.target.value));
      }}
    />
  );
}
