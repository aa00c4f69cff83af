// The selected node's parameters, as a form generated from its JSON Schema.
import { useMemo } from "react";
import type { ParamSchema } from "../api/types";
import { effectiveSchema } from "../state/parameters";
import { useEditor } from "../state/editor";
import { ColumnsNote } from "./ColumnsNote";
import { NodeWarnings } from "./NodeWarnings";
import { ParameterField } from "./ParameterField";
import { ProblemList } from "./ProblemList";
import { taskOptionsOf } from "./taskOptions";
import { useColumns } from "./useColumns";

const NO_PROBLEMS: never[] = [];

export function ParameterForm({ nodeId }: { nodeId: string }) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === nodeId));
  const entry = useEditor((s) => (node ? s.catalog[node.data.type] : undefined));
  const problems = useEditor((s) => s.problemsByNode[nodeId] ?? NO_PROBLEMS);
  const updateParameters = useEditor((s) => s.updateParameters);

  const fields = useMemo(() => {
    const schema = entry?.parameters;
    return Object.entries(schema?.properties ?? {}).map(([name, prop]) => ({
      name,
      schema: effectiveSchema(prop as ParamSchema, schema),
      required: schema?.required?.includes(name) ?? false,
    }));
  }, [entry]);
  const needsColumns = fields.some((f) => f.schema.column_of || f.schema.items?.column_of);
  // Choices that depend on the task of an input model need the preview too (it trains on the sample).
  const needsTask =
    !!node && !!entry?.inputs.some((p) => p.type === "model") && fields.some((f) => taskOptionsOf(f.schema));
  const columns = useColumns(nodeId, needsColumns || needsTask);

  if (!node) return null;
  const fieldNames = new Set(fields.map((f) => f.name));
  const nodeProblems = problems.filter((p) => !p.field || !fieldNames.has(p.field));
  const basic = fields.filter((f) => !f.schema.advanced);
  const advanced = fields.filter((f) => f.schema.advanced);

  const render = (f: (typeof fields)[number]) => (
    <ParameterField
      key={f.name}
      nodeId={nodeId}
      name={f.name}
      schema={f.schema}
      required={f.required}
      value={node.data.parameters[f.name]}
      onChange={(value) => updateParameters(nodeId, { [f.name]: value })}
      problems={problems.filter((p) => p.field === f.name)}
      columns={columns}
    />
  );

  return (
    <div className="parameter-form">
      {nodeProblems.length > 0 && <ProblemList problems={nodeProblems} />}
      <NodeWarnings nodeId={nodeId} />
      {needsColumns ? <ColumnsNote columns={columns} /> : needsTask && <ColumnsNote columns={columns} problemsOnly />}
      {fields.length === 0 && <p className="muted">This node has no parameters.</p>}
      {basic.map(render)}
      {advanced.length > 0 && (
        <details className="advanced" open={advanced.some((f) => problems.some((p) => p.field === f.name)) || undefined}>
          <summary>Advanced</summary>
          {advanced.map(render)}
        </details>
      )}
    </div>
  );
}
