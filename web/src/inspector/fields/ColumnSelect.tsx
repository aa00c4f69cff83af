import type { ColumnInfo } from "../../api/types";
import type { FieldProps } from "../ParameterField";

/** One column of the upstream table. */
export function ColumnSelect({
  id,
  label,
  value,
  invalid,
  onChange,
  columns,
  loading,
}: FieldProps<string> & { columns: ColumnInfo[]; loading?: boolean }) {
  const known = loading || value == null || columns.some((c) => c.name === value);
  return (
    <select
      id={id}
      className={`select ${invalid || !known ? "invalid" : ""}`}
      aria-label={label}
      aria-invalid={invalid || !known || undefined}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
    >
      <option value="">{loading ? "Loading columns…" : "— choose a column —"}</option>
      {value != null && (loading || !known) && <option value={value}>{loading ? value : `${value} (not in the input)`}</option>}
      {columns.map((c) => (
        <option key={c.name} value={c.name}>
          {c.name} · {c.dtype}
        </option>
      ))}
    </select>
  );
}
