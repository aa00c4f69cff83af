// A node's JSON value (`{"kind": "json", "value": …}` in the run record): pretty-printed, each object and list
// foldable, with a copy button. Long lists show their first items.
import { copyText } from "../deployments/copyText";
import { Icon } from "../ui/Icon";

const OPEN_DEPTH = 2; // levels unfolded at first
const MAX_ITEMS = 200; // items of one object or list drawn; the rest are counted

export function JsonOutput({ value }: { value: unknown }) {
  if (value === undefined) return <p className="results-note">The run record holds no value for this output.</p>;
  if (value === null) return <p className="results-note" data-testid="json-null">No value (null).</p>;
  return (
    <div className="value-output">
      <div className="output-toolbar">
        <span className="output-facts">{describe(value)}</span>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void copyText(JSON.stringify(value, null, 2), "JSON")}>
          <Icon name="copy" size={13} /> Copy
        </button>
      </div>
      <div className="json-tree" data-testid="json-output">
        <JsonNode value={value} depth={0} comma={false} />
      </div>
    </div>
  );
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `A list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (value !== null && typeof value === "object") {
    const n = Object.keys(value).length;
    return `An object with ${n} key${n === 1 ? "" : "s"}`;
  }
  return value === null ? "null" : `A ${typeof value}`;
}

function JsonNode({ name, value, depth, comma }: { name?: string; value: unknown; depth: number; comma: boolean }) {
  const key = name !== undefined && <><span className="json-key">{JSON.stringify(name)}</span>: </>;
  const tail = comma ? "," : "";
  if (value === null || typeof value !== "object") {
    const type = value === null ? "null" : typeof value;
    return <div className="json-line">{key}<span className={`json-${type}`}>{JSON.stringify(value)}</span>{tail}</div>;
  }
  const list = Array.isArray(value);
  const entries: [string, unknown][] = list ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, close] = list ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return <div className="json-line">{key}{open}{close}{tail}</div>;
  const shown = entries.slice(0, MAX_ITEMS);
  const hidden = entries.length - shown.length;
  return (
    <details className="json-node" open={depth < OPEN_DEPTH}>
      <summary className="json-line">
        {key}{open}
        <span className="json-fold"> {entries.length} {list ? "item" : "key"}{entries.length === 1 ? "" : "s"} {close}{tail}</span>
      </summary>
      <div className="json-children">
        {shown.map(([k, v], i) => (
          <JsonNode key={k} name={list ? undefined : k} value={v} depth={depth + 1} comma={i < entries.length - 1} />
        ))}
        {hidden > 0 && <div className="json-line json-more">… {hidden} more (copy the JSON to see them all)</div>}
      </div>
      <div className="json-line">{close}{tail}</div>
    </details>
  );
}
