import { useEffect, useState } from "react";
import type { FieldProps } from "../ParameterField";

/** A list of strings (or numbers) typed as comma-separated text. */
export function ListInput({ id, label, schema, value, invalid, onChange }: FieldProps<unknown[]>) {
  const joined = (value ?? []).join(", ");
  const [text, setText] = useState(joined);
  useEffect(() => setText((current) => (parse(current).join(", ") === joined ? current : joined)), [joined]);
  const numeric = schema.items?.type === "number" || schema.items?.type === "integer";

  function parse(raw: string): string[] {
    return raw.split(",").map((s) => s.trim()).filter(Boolean);
  }

  return (
    <input
      id={id}
      className={`input ${invalid ? "invalid" : ""}`}
      type="text"
      aria-label={label}
      aria-invalid={invalid || undefined}
      placeholder="comma-separated values"
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const items = parse(e.target.value);
        onChange(numeric ? items.map(Number) : items);
      }}
    />
  );
}
