// Text over several lines (the schema's `multiline` hint): a query, a prompt. Monospace for code.
import type { FieldProps } from "../ParameterField";

export function TextArea({ id, label, schema, value, invalid, onChange, code }: FieldProps<string> & { code?: boolean }) {
  return (
    <textarea
      id={id}
      className={`textarea ${code ? "code" : ""} ${invalid ? "invalid" : ""}`}
      aria-label={label}
      aria-invalid={invalid || undefined}
      rows={code ? 6 : 4}
      spellCheck={!code}
      maxLength={schema.maxLength}
      placeholder={schema.default != null ? String(schema.default) : ""}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
    />
  );
}
