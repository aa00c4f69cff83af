// The inspector's Results tab: what the selected node produced in the shown run, port by port.
import type { ReactNode } from "react";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { formatDuration, shortRunId } from "../runs/format";
import { RunIcon } from "../runs/RunIcon";
import { useRuns } from "../runs/runStore";
import { StatusBadge } from "../runs/StatusBadge";
import { errorText, isFinished, type NodeError, type OutputSummary, type Run, type RunNode } from "../runs/runTypes";
import { DatasetOutput } from "./DatasetOutput";
import { JsonOutput } from "./JsonOutput";
import { MetricsOutput } from "./MetricsOutput";
import { ModelOutput } from "./ModelOutput";
import { TextOutput } from "./TextOutput";
import "./results.css";

export function ResultsPanel({ nodeId }: { nodeId: string }) {
  const run = useRuns((s) => s.run);
  const node = run?.nodes[nodeId];

  if (!run) {
    return (
      <EmptyResults title="No results yet">
        Run the workflow to see what this node produces: tables, metrics, charts and models.
      </EmptyResults>
    );
  }
  if (!node) {
    return (
      <EmptyResults title="Not in this run">
        This node was added after run {shortRunId(run.run_id)}. Run the workflow again to see its results.
      </EmptyResults>
    );
  }
  return (
    <div className="results" data-testid="results-panel">
      <RunContext run={run} nodeId={nodeId} node={node} />
      <NodeOutcome run={run} nodeId={nodeId} node={node} />
    </div>
  );
}

function RunContext({ run, nodeId, node }: { run: Run; nodeId: string; node: RunNode }) {
  const history = useRuns((s) => s.history);
  const latest = history[0]?.run_id === run.run_id;
  const showRuns = () => {
    useRuns.getState().setPanelTab("runs");
    useEditor.getState().setRunPanelOpen(true);
  };
  return (
    <div className="results-context">
      <StatusBadge status={node.status} cached={node.cached} testId={`node-status-${nodeId}`} />
      {node.duration_s != null && <span className="muted">{formatDuration(node.duration_s)}</span>}
      <button type="button" className="text-btn results-run" onClick={showRuns} title="Pick another run in the run panel">
        Run {shortRunId(run.run_id)} · v{run.workflow_version}{latest ? " (latest)" : ""}
      </button>
    </div>
  );
}

function NodeOutcome({ run, nodeId, node }: { run: Run; nodeId: string; node: RunNode }) {
  if (node.status === "pending" || node.status === "running") {
    return (
      <p className="results-waiting">
        <span className="spinner" /> {node.status === "running" ? "Running…" : "Waiting for the nodes before it…"}
      </p>
    );
  }
  if (node.status === "failed") return <NodeFailure error={node.error} />;
  if (node.status !== "completed") {
    const why = node.status === "cancelled" ? "The run was cancelled before this node ran."
      : !isFinished(run) ? "Waiting…" : "An earlier node failed, so this one did not run.";
    return <p className="results-note">{why}</p>;
  }
  const outputs = Object.entries(node.outputs ?? {});
  if (!outputs.length) return <p className="results-note">This node produced no outputs.</p>;
  return (
    <>
      {node.cached && (
        <p className="results-note cached-note">
          Reused from an earlier run: nothing this node depends on has changed.
        </p>
      )}
      {outputs.map(([port, output]) => (
        <OutputSection key={port} run={run} nodeId={nodeId} port={port} output={output} />
      ))}
    </>
  );
}

const KIND_TEXT: Record<string, string> = { dataset: "Table", model: "Model", metrics: "Metrics", json: "JSON", text: "Text" };

function OutputSection({ run, nodeId, port, output }: { run: Run; nodeId: string; port: string; output: OutputSummary }) {
  return (
    <section className="output-section" aria-label={`Output ${port}`} data-testid={`output-${port}`}>
      <h3 className="output-title">
        <span className={`kind-dot kind-${output.kind}`} aria-hidden="true" />
        {port}
        <span className="kind-label">{KIND_TEXT[output.kind] ?? output.kind}</span>
      </h3>
      {output.kind === "dataset" ? (
        <DatasetOutput runId={run.run_id} nodeId={nodeId} port={port} output={output} />
      ) : output.kind === "metrics" ? (
        <MetricsOutput run={run} nodeId={nodeId} output={output} />
      ) : output.kind === "model" ? (
        <ModelOutput run={run} output={output} />
      ) : output.kind === "json" ? (
        <JsonOutput value={output.value} />
      ) : output.kind === "text" ? (
        <TextOutput value={output.value} />
      ) : (
        <pre className="json-view">{JSON.stringify(output, null, 2)}</pre>
      )}
    </section>
  );
}

function NodeFailure({ error }: { error: RunNode["error"] }) {
  const detail = typeof error === "object" && error ? (error as NodeError) : null;
  return (
    <div className="results-failure" role="alert">
      <div className="results-failure-head">
        <Icon name="alert" size={15} /> This node failed
        {detail?.code && <span className="error-code">{detail.code}</span>}
      </div>
      <p>{errorText(error) ?? "No message was recorded."}</p>
      <p className="muted">Fix the parameters or the data it reads, then run again: unchanged nodes before it are reused.</p>
    </div>
  );
}

function EmptyResults({ title, children }: { title: string; children: ReactNode }) {
  const start = useRuns((s) => s.start);
  const starting = useRuns((s) => s.starting);
  return (
    <div className="results-empty" data-testid="results-empty">
      <Icon name="chart" size={28} />
      <h3>{title}</h3>
      <p>{children}</p>
      <button type="button" className="btn btn-primary btn-sm" onClick={() => void start(true)} disabled={starting}>
        <RunIcon name="play" filled size={11} /> Run workflow
      </button>
    </div>
  );
}
