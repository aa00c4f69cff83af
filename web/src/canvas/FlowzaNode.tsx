// A node on the canvas: category icon, label and type, typed ports with names, run status and problems.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { PortSpec } from "../api/types";
import { useEditor, type FlowNode } from "../state/editor";
import { Icon } from "../ui/Icon";
import { categoryLook, portColour } from "./categories";
import { StatusChip } from "./StatusChip";

const NO_PORTS: PortSpec[] = [];

function FlowzaNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const entry = useEditor((s) => s.catalog[data.type]);
  const run = useEditor((s) => s.runStatus[id]);
  const problems = useEditor((s) => s.problemsByNode[id]);
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
