// The inspector with no node selected: the workflow's name, description, size and every problem.
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { ProblemList } from "./ProblemList";

export function WorkflowSummary() {
  const name = useEditor((s) => s.name);
  const description = useEditor((s) => s.description);
  const nodeCount = useEditor((s) => s.nodes.length);
  const edgeCount = useEditor((s) => s.edges.length);
  const version = useEditor((s) => s.version);
  const problems = useEditor((s) => s.problems);
  const setName = useEditor((s) => s.setName);
  const setDescription = useEditor((s) => s.setDescription);
  const workflowProblems = problems.filter((p) => !p.node_id);
  const nodeProblems = problems.filter((p) => p.node_id);

  return (
    <div className="inspector-body">
      <h2 className="inspector-title">Workflow</h2>
      <div className="field">
        <label htmlFor="wf-name">Name</label>
        <input id="wf-name" className="input" aria-label="Name" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="wf-description">Description</label>
        <textarea
          id="wf-description"
          className="textarea"
          rows={3}
          aria-label="Description"
          placeholder="What this workflow does"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <dl className="stats">
        <div>
          <dt>Nodes</dt>
          <dd>{nodeCount}</dd>
        </div>
        <div>
          <dt>Connections</dt>
          <dd>{edgeCount}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{version ?? "unsaved"}</dd>
        </div>
      </dl>
      <h3 className="section-title">
        Problems{problems.length > 0 && <span className="count-pill">{problems.length}</span>}
      </h3>
      {nodeCount === 0 ? (
        <p className="muted">Add nodes to the canvas to start.</p>
      ) : problems.length === 0 ? (
        <p className="all-good">
          <Icon name="check" size={14} /> No problems found: the workflow is ready to run.
        </p>
      ) : (
        <>
          {workflowProblems.length > 0 && <ProblemList problems={workflowProblems} />}
          {nodeProblems.length > 0 && <ProblemList problems={nodeProblems} showNode />}
        </>
      )}
      <p className="inspector-hint">Select a node to edit its parameters.</p>
    </div>
  );
}
