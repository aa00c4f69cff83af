// A node's text (`{"kind": "text", "value": …}` in the run record), as written, with a copy button.
import { copyText } from "../deployments/copyText";
import { Icon } from "../ui/Icon";

export function TextOutput({ value }: { value: unknown }) {
  if (typeof value !== "string") return <p className="results-note">The run record holds no text for this output.</p>;
  const lines = value === "" ? 0 : value.split("\n").length;
  return (
    <div className="value-output">
      <div className="output-toolbar">
        <span className="output-facts">
          <strong>{value.length.toLocaleString()}</strong> characters · <strong>{lines.toLocaleString()}</strong> line{lines === 1 ? "" : "s"}
        </span>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void copyText(value, "text")}>
          <Icon name="copy" size={13} /> Copy
        </button>
      </div>
      <pre className="text-output" data-testid="text-output">{value}</pre>
    </div>
  );
}
