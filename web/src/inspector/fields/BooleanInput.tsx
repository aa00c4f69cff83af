import type { FieldProps } from "../ParameterField";

export function BooleanInput({ id, label, schema, value, onChange }: FieldProps<boolean>) {
  const checked = value ?? (schema.default as boolean | undefined) ?? false;
  return (
    <label className="switch-row" htmlFor={id}>
      <input
        id={id}
        type="checkbox"
        className="switch"
        aria-label={label}
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span className="switch-label">{label}</span>
    </label>
  );
}
