import { useEffect, useState } from "react";
import type { FieldProps } from "../ParameterField";

/** A number field that keeps what is typed ("0.", "-") until it parses; empty means "use the default". */
export function NumberInput({ id, label, schema, value, invalid, onChange }: FieldProps<number>) {
  const [text, setText] = useState(value === undefined || value === null ? "" : String(value));
  useEffect(() => {
    setText((current) => (Number(current) === value && current !== "" ? current : value == null ? "" : String(value)));
  }, [value]);
  const integer = schema.type === "integer";
  return (
    <input
      id={id}
      className={`input ${invalid ? "invalid" : ""}`}
      type="number"
      inputMode={integer ? "numeric" : "decimal"}
      aria-label={label}
      aria-invalid={invalid || undefined}
      step={integer ? 1 : "any"}
      min={schema.minimum ?? schema.exclusiveMinimum}
      max={schema.maximum ?? schema.exclusiveMaximum}
      placeholder={schema.default != null ? String(schema.default) : schema.nullable ? "none" : ""}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value.trim() === "") onChange(schema.nullable ? null as never : undefined);
        else if (!Number.isNaN(e.target.valueAsNumber)) onChange(e.target.valueAsNumber);
      }}
    />
  );
}
