// One parameter: its label, input (chosen from the schema), default, bounds, help text and problems.
import type { ColumnInfo, ParamSchema, Problem } from "../api/types";
import { BooleanInput } from "./fields/BooleanInput";
import { Checklist } from "./fields/Checklist";
import { ColumnSelect } from "./fields/ColumnSelect";
import { ConnectionSelect } from "./fields/ConnectionSelect";
import { DatasetSelect } from "./fields/DatasetSelect";
import { EnumSelect } from "./fields/EnumSelect";
import { FlexibleInput } from "./fields/FlexibleInput";
import { JsonInput } from "./fields/JsonInput";
import { ListInput } from "./fields/ListInput";
import { NumberInput } from "./fields/NumberInput";
import { TextArea } from "./fields/TextArea";
import { TextInput } from "./fields/TextInput";
import { modelTask, taskOptionsOf } from "./taskOptions";
import type { ColumnsState } from "./useColumns";

type Schema = ParamSchema & { nullable: boolean };

export type FieldProps<T> = {
  id: string;
  label: string;
  schema: Schema;
  value: T | undefined;
  invalid: boolean;
  onChange: (value: T | undefined) => void;
};

export function ParameterField({
  nodeId,
  name,
  schema,
  required,
  value,
  onChange,
  problems,
  columns,
}: {
  nodeId: string;
  name: string;
  schema: Schema;
  required: boolean;
  value: unknown;
  onChange: (value: unknown) => void;
  problems: Problem[];
  columns: ColumnsState;
}) {
  const id = `param-${nodeId}-${name}`;
  const label = schema.title ?? name;
  const local = boundsProblem(schema, value);
  const invalid = problems.length > 0 || local !== null;
  const common = { id, label, schema, invalid };
  const columnPort = schema.column_of ?? schema.items?.column_of;
  const available: ColumnInfo[] | null = columnPort ? (columns.result?.inputs[columnPort]?.columns ?? null) : null;
  const byTask = taskOptionsOf(schema);
  const task = byTask ? modelTask(columns.result) : undefined;
  const taskChoices = task ? byTask?.[task] : undefined;

  let input;
  if (schema.type === "boolean") {
    input = <BooleanInput {...common} value={value as boolean | undefined} onChange={onChange} />;
  } else if (schema.type === "array" && columnPort && (available || (columns.loading && !columns.result))) {
    input = (
      <Checklist
        {...common}
        options={(available ?? []).map((c) => ({ value: c.name, hint: c.dtype }))}
        loading={!available}
        emptyMeans={schema.nullable ? "all columns" : undefined}
        value={value as string[] | undefined}
        onChange={onChange}
      />
    );
  } else if (schema.type === "array" && schema.items?.enum) {
    const offered = schema.items.enum.map(String).filter((v) => !taskChoices || taskChoices.includes(v));
    input = (
      <Checklist
        {...common}
        options={offered.map((v) => ({ value: v }))}
        missing={taskChoices ? { text: "other task", title: `Not offered for a ${task} model` } : undefined}
        emptyMeans={schema.nullable ? "the default" : undefined}
        value={value as string[] | undefined}
        onChange={onChange}
      />
    );
  } else if (schema.type === "array") {
    input = <ListInput {...common} value={value as unknown[] | undefined} onChange={onChange} />;
  } else if (columnPort && (available || (columns.loading && !columns.result))) {
    input = (
      <ColumnSelect {...common} columns={available ?? []} loading={!available} value={value as string | undefined} onChange={onChange} />
    );
  } else if (schema.connection_kind) {
    input = <ConnectionSelect {...common} kind={schema.connection_kind} value={value as string | undefined} onChange={onChange} />;
  } else if (schema.dataset_ref) {
    input = <DatasetSelect {...common} value={value as string | undefined} onChange={onChange} />;
  } else if (schema.enum) {
    input = <EnumSelect {...common} value={value} onChange={onChange} />;
  } else if (schema.type === "number" || schema.type === "integer") {
    input = <NumberInput {...common} value={value as number | undefined} onChange={onChange} />;
  } else if (!schema.type && schema.anyOf) {
    input = <FlexibleInput {...common} value={value} onChange={onChange} />;
  } else if (schema.type === "object" || !schema.type) {
    // An object (headers, bound values) or any JSON value (a request body): typed as JSON.
    input = <JsonInput {...common} value={value} onChange={onChange} />;
  } else if (schema.multiline) {
    input = <TextArea {...common} code={!!schema.code} value={value as string | undefined} onChange={onChange} />;
  } else {
    input = <TextInput {...common} value={value as string | undefined} onChange={onChange} />;
  }

  const offeredFor = taskChoices ? `Offered: those for a ${task} model.` : "";
  const hint = [schema.description, boundsText(schema), offeredFor].filter(Boolean).join(" ");
  const showDefault = schema.default !== undefined && schema.default !== null && schema.type !== "boolean";
  return (
    <div className={`field ${invalid ? "has-error" : ""} ${schema.type === "boolean" ? "field-inline" : ""}`} data-field={name}>
      {schema.type !== "boolean" && (
        <div className="field-label-row">
          <label htmlFor={id}>
            {label}
            {required && <span className="required" aria-hidden> *</span>}
            {schema.role === "target" && <span className="tag">target</span>}
          </label>
          {showDefault && <span className="field-default">default: {formatDefault(schema.default)}</span>}
        </div>
      )}
      {input}
      {hint && <p className="field-help">{hint}</p>}
      {columnPort && !available && !columns.loading && schema.type !== "boolean" && (
        <p className="field-help">Connect the “{columnPort}” input to pick from its columns.</p>
      )}
      {local && problems.length === 0 && <p className="field-error">{local}</p>}
      {problems.map((p, i) => (
        <p key={i} className="field-error" role="alert">
          {p.message}
        </p>
      ))}
    </div>
  );
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  return String(value);
}

function boundsText(schema: Schema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.length ? `(${parts.join(", ")})` : "";
}

/** A bound the value breaks, checked here so the field turns red at once (the API says the same later). */
function boundsProblem(schema: Schema, value: unknown): string | null {
  if (typeof value !== "number") return null;
  if (schema.type === "integer" && !Number.isInteger(value)) return "must be a whole number";
  if (schema.minimum !== undefined && value < schema.minimum) return `must be at least ${schema.minimum}`;
  if (schema.maximum !== undefined && value > schema.maximum) return `must be at most ${schema.maximum}`;
  if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `must be more than ${schema.exclusiveMinimum}`;
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return `must be less than ${schema.exclusiveMaximum}`;
  return null;
}
