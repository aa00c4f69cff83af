// A node on the canvas: category icon, label and type (and id, when another node has the same label), typed
// ports with names, run status, warnings and problems.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useMemo } from "react";
import type { PortSpec } from "../api/types";
import { useEditor, type FlowNode } from "../state/editor";
import { openWarnings, warningText } from "../state/warnings";
import { Icon } from "../ui/Icon";
import { categoryLook, portColour } from "./categories";
import { sharesLabel } from "./labels";
import { StatusChip } from "./StatusChip";

const NO_PORTS: PortSpec[] = [];

function FlowzaNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const entry = useEditor((s) => s.catalog[data.type]);
  const run = useEditor((s) => s.runStatus[id]);
  const sampled = useEditor((s) => s.sampleWarnings[id]);
  const problems = useEditor((s) => s.problemsByNode[id]);
  const ambiguous = useEditor((s) => sharesLabel(s.nodes, data.label));
  const warnings = useMemo(() => openWarnings([run?.warnings, sampled], data.parameters), [run, sampled, data.parameters]);
  const look = categoryLook(entry?.category ?? "");
  const inputs = entry?.inputs ?? NO_PORTS;
  const outputs = entry?.outputs ?? NO_PORTS;
  const errors = problems?.filter((p) => p.severity !== "warning").length ?? 0;
  const rows = Math.max(inputs.length, outputs.length);

  return (
    <div
      className={`fz-node ${selected ? "selected" : ""} ${run ? `status-${run.status}` : ""} ${errors ? "has-errors" : ""} ${entry ? "" : "unknown"}`}
      data-testid={`node-${id}`}
      data-status={run?.status}
    >
      <div className="fz-node-header">
        <span className="fz-node-icon" style={{ background: look.colour }}>
          <Icon name={look.icon} size={14} />
        </span>
        <span className="fz-node-titles">
          <span className="fz-node-label" title={data.label}>
            {data.label}
          </span>
          <span className="fz-node-type">{entry ? data.type : `${data.type} (unknown type)`}</span>
          {ambiguous && (
            <span className="fz-node-id" title="Node id: another node has the same label" data-testid={`node-id-${id}`}>
              id {id}
            </span>
          )}
        </span>
      </div>
      {rows > 0 && (
        <div className="fz-node-ports">
          {Array.from({ length: rows }, (_, i) => (
            <div className="fz-port-row" key={i}>
              {inputs[i] ? <Port port={inputs[i]} kind="target" /> : <span />}
              {outputs[i] ? <Port port={outputs[i]} kind="source" /> : <span />}
            </div>
          ))}
        </div>
      )}
      {run && <StatusChip status={run} />}
      {warnings.length > 0 && (
        <div
          className="fz-warning-pill"
          data-testid={`warnings-${id}`}
          title={warnings.map((w) => `• ${warningText(w)}${w.fix ? " (a fix is offered in the inspector)" : ""}`).join("\n")}
        >
          <Icon name="alert" size={12} />
          <span className="fz-warning-text">{warningText(warnings[0])}</span>
          {warnings.length > 1 && <span className="fz-warning-more">+{warnings.length - 1}</span>}
        </div>
      )}
      {problems && problems.length > 0 && (
        <span
          className={`fz-problem-badge ${errors ? "" : "warning"}`}
          data-testid={`problems-${id}`}
          title={problems.map((p) => `• ${p.field ? `${p.field}: ` : ""}${p.message}`).join("\n")}
          aria-label={`${problems.length} problem${problems.length > 1 ? "s" : ""}`}
        >
          {problems.length}
        </span>
      )}
    </div>
  );
}

function Port({ port, kind }: { port: PortSpec; kind: "source" | "target" }) {
  const input = kind === "target";
  return (
    <span className={`fz-port ${input ? "in" : "out"}`} title={`${port.name}: ${port.type}`}>
      <Handle
        type={kind}
        id={port.name}
        position={input ? Position.Left : Position.Right}
        className="fz-handle"
        style={{ background: portColour(port.type) }}
        data-porttype={port.type}
      />
      <span className="fz-port-name">{port.name}</span>
    </span>
  );
}

export const FlowzaNode = memo(FlowzaNodeView);
