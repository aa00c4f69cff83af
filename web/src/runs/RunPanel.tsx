// The bottom panel: the shown run's log (live), the workflow's run history, and a wide view of a node's table.
import { useEditor } from "../state/editor";
import { DataTab } from "./DataTab";
import { LogView } from "./LogView";
import { RunHistory } from "./RunHistory";
import { RunSummary } from "./RunSummary";
import { useRuns, type PanelTab } from "./runStore";
import "./runs.css";

export function RunPanel() {
  const tab = useRuns((s) => s.panelTab);
  const setTab = useRuns((s) => s.setPanelTab);
  const table = useRuns((s) => s.table);
  const historyCount = useRuns((s) => s.history.length);
  const logCount = useRuns((s) => s.logs.length);
  const nodeLabel = useEditor((s) => (table ? s.nodes.find((n) => n.id === table.nodeId)?.data.label : undefined));

  const tabs: { id: PanelTab; text: string; count?: number }[] = [
    { id: "logs", text: "Logs", count: logCount || undefined },
    { id: "runs", text: "Runs", count: historyCount || undefined },
  ];
  if (table) tabs.push({ id: "data", text: `Data · ${nodeLabel ?? table.nodeId}.${table.port}` });

  return (
    <div className="run-panel">
      <div className="run-panel-bar">
        <div className="run-tabs" role="tablist" aria-label="Run panel">
          {tabs.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`run-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls="run-tabpanel"
              className="run-tab"
              onClick={() => setTab(t.id)}
            >
              {t.text}
              {t.count != null && <span className="run-tab-count">{t.count}</span>}
            </button>
          ))}
        </div>
        <RunSummary />
      </div>
      <div className="run-tabpanel" id="run-tabpanel" role="tabpanel" aria-labelledby={`run-tab-${tab}`}>
        {tab === "logs" && <LogView />}
        {tab === "runs" && <RunHistory />}
        {tab === "data" && <DataTab />}
      </div>
    </div>
  );
}
