// Where to send predictions: the invocations URL and a curl example to copy, with the token just created
// (else a placeholder) and, once the deployment has served a row, that row as the example body.
import { Icon } from "../ui/Icon";
import { copyText } from "./copyText";
import type { Deployment } from "./deploymentTypes";

const PLACEHOLDER = "YOUR_TOKEN";

export function EndpointPanel({ deployment, token, exampleRow }: {
  deployment: Deployment;
  token: string | null;
  exampleRow: Record<string, unknown> | null;
}) {
  const curl = curlExample(deployment.invocations_url, token ?? PLACEHOLDER, exampleRow);
  return (
    <section className="card endpoint-card" aria-label="Endpoint">
      <div className="card-head"><h3>Endpoint</h3><span className="muted">MLflow scoring bodies: dataframe_split, dataframe_records, instances, inputs</span></div>
      <div className="url-row">
        <code className="endpoint-url" data-testid="invocations-url">{deployment.invocations_url}</code>
        <button type="button" className="btn btn-sm" aria-label="Copy URL of the endpoint"
          onClick={() => void copyText(deployment.invocations_url, "endpoint URL")}>
          <Icon name="copy" size={13} /> Copy URL
        </button>
      </div>
      <div className="curl-head">
        <h4>Example request</h4>
        <button type="button" className="btn btn-sm" aria-label="Copy curl example" onClick={() => void copyText(curl, "curl example")}>
          <Icon name="copy" size={13} /> Copy curl
        </button>
      </div>
      <pre className="curl" data-testid="curl-example">{curl}</pre>
      <p className="muted hint">
        {token
          ? "The example holds the token you just created: keep it secret."
          : `Create a token below and put it in place of ${PLACEHOLDER}.`}
        {!exampleRow && " Replace the columns and values with your model's input columns (the raw rows it was trained on)."}
        {" "}The answer is {"{\"predictions\": [...]}"}, plus "probabilities" for classifiers; add "on_error": "skip" to
        score the good rows of a batch with bad ones.
      </p>
    </section>
  );
}

function curlExample(url: string, token: string, row: Record<string, unknown> | null): string {
  const columns = row ? Object.keys(row) : ["feature_1", "feature_2"];
  const data = row ? [Object.values(row)] : [[5.1, "a"]];
  const body = JSON.stringify({ dataframe_split: { columns, data } });
  return [
    `curl -X POST '${url}' \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${body.replace(/'/g, "'\\''")}'`,
  ].join("\n");
}
