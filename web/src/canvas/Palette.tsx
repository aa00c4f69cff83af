// The left column: node types from the catalog, grouped by category, with search and CSV upload.
import { useCallback, useMemo, useRef, useState } from "react";
import type { NodeType } from "../api/types";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { CollapsePanelButton } from "../ui/SidePanelToggle";
import { categoryLook } from "./categories";
import { PaletteItem } from "./PaletteItem";
import { uploadCsvAsNode } from "./uploadCsv";
import { useViewportCentre } from "./useViewportCentre";
import "./palette.css";

export function Palette() {
  const catalog = useEditor((s) => s.catalog);
  const catalogError = useEditor((s) => s.catalogError);
  const [query, setQuery] = useState("");
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  const fileInput = useRef<HTMLInputElement>(null);
  const centre = useViewportCentre();

  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const byCategory = new Map<string, NodeType[]>();
    for (const entry of Object.values(catalog)) {
      const haystack = `${entry.type} ${entry.type.replace(/_/g, " ")} ${entry.description} ${entry.category}`.toLowerCase();
      if (q && !haystack.includes(q)) continue;
      byCategory.set(entry.category, [...(byCategory.get(entry.category) ?? []), entry]);
    }
    return [...byCategory.entries()].sort(([a], [b]) => categoryLook(a).order - categoryLook(b).order || a.localeCompare(b));
  }, [catalog, query]);

  const add = useCallback((type: string) => useEditor.getState().addNode(type, centre()), [centre]);
  const loading = !catalogError && Object.keys(catalog).length === 0;

  return (
    <aside className="palette" aria-label="Node palette">
      <div className="palette-head">
        <div className="palette-search-row">
          <div className="palette-search">
            <Icon name="search" className="palette-search-icon" />
            <input
              className="input"
              type="search"
              placeholder="Search nodes"
              aria-label="Search nodes"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
            />
          </div>
          <CollapsePanelButton panel="palette" />
        </div>
        <button type="button" className="btn upload-btn" onClick={() => fileInput.current?.click()}>
          <Icon name="upload" /> Upload CSV
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".csv,.tsv,.tab,.psv,.txt,.data,.dat,.test,.train,text/csv,text/plain"
          multiple
          aria-label="Upload CSV"
          className="visually-hidden"
          tabIndex={-1}
          onChange={(e) => {
            for (const file of Array.from(e.target.files ?? [])) void uploadCsvAsNode(file, centre());
            e.target.value = "";
          }}
        />
      </div>
      <div className="palette-groups">
        {loading && (
          <p className="palette-note">
            <span className="spinner" /> Loading nodes…
          </p>
        )}
        {catalogError && <p className="palette-note error">Could not load the nodes: {catalogError}</p>}
        {!loading && !catalogError && groups.length === 0 && <p className="palette-note">No node matches “{query}”.</p>}
        {groups.map(([category, entries]) => {
          const look = categoryLook(category);
          const open = query.trim() !== "" || !collapsed[category];
          return (
            <section key={category} className="palette-group">
              <button
                type="button"
                className="palette-group-head"
                aria-expanded={open}
                onClick={() => setCollapsed((c) => ({ ...c, [category]: !c[category] }))}
              >
                <Icon name={open ? "chevronDown" : "chevronRight"} size={14} />
                <span className="palette-dot" style={{ background: look.colour }} />
                {look.title}
                <span className="palette-count">{entries.length}</span>
              </button>
              {open && (
                <ul className="palette-list">
                  {entries.map((entry) => (
                    <PaletteItem key={entry.type} entry={entry} onAdd={add} />
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      </div>
      <p className="palette-foot">Drag a node onto the canvas, or drop a CSV file there.</p>
    </aside>
  );
}
