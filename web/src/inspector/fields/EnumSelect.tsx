import type { FieldProps } from "../ParameterField";

export function EnumSelect({ id, label, schema, value, invalid, onChange }: FieldProps<unknown>) {
  const options = schema.enum ?? [];
  const current = value ?? schema.default;
  return (
    <select
      id={id}
      className={`select ${invalid ? "invalid" : ""}`}
      aria-label={label}
      aria-invalid={invalid || undefined}
      value={current == null ? "" : String(current)}
      onChange={(e) => {
        const chosen = options.find((o) => String(o) === e.target.value);
        onChange(e.target.value === "" ? undefined : chosen);
      }}
    >
      {(schema.nullable || current == null) && <option value="">—</option>}
      {options.map((o) => (
        <option key={String(o)} value={String(o)}>
          {String(o)}
        </option>
      ))}
    </select>
  );
}
