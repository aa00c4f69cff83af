import type { FieldProps } from "../ParameterField";

export function TextInput({ id, label, schema, value, invalid, onChange }: FieldProps<string>) {
  return (
    <input
      id={id}
      className={`input ${invalid ? "invalid" : ""}`}
      type="text"
      aria-label={label}
      aria-invalid={invalid || undefined}
      maxLength={schema.maxLength}
      placeholder={schema.default != null ? String(schema.default) : schema.nullable ? "none" : ""}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
    />
  );
}
