// An uploaded dataset, chosen by name (the parameter holds its id).
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import type { FieldProps } from "../ParameterField";

type DatasetOption = { id: string; name: string; rows: number; columns: unknown[] };

export function DatasetSelect({ id, label, value, invalid, onChange }: FieldProps<string>) {
  const [datasets, setDatasets] = useState<DatasetOption[] | null>(null);
  useEffect(() => {
    let live = true;
    api.GET("/api/datasets/", { params: { query: { limit: 200 } } }).then(({ data }) => {
      if (live) setDatasets((data as DatasetOption[] | undefined) ?? []);
    });
    return () => {
      live = false;
    };
  }, []);
  const known = datasets?.some((d) => d.id === value);
  return (
    <select
      id={id}
      className={`select ${invalid ? "invalid" : ""}`}
      aria-label={label}
      aria-invalid={invalid || undefined}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value || undefined)}
    >
      <option value="">{datasets === null ? "Loading datasets…" : "— choose an uploaded dataset —"}</option>
      {value && datasets !== null && !known && <option value={value}>{value} (not found)</option>}
      {(datasets ?? []).map((d) => (
        <option key={d.id} value={d.id}>
          {d.name} · {d.rows} rows × {d.columns.length} columns
        </option>
      ))}
    </select>
  );
}
