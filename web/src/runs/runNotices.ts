// What went wrong starting a run, as the notice under the Run button shows it.
import { errorMessage } from "../api/client";
import type { Problem } from "../api/types";
import { useEditor } from "../state/editor";

/** A problem starting or cancelling a run; an item naming a node selects it when clicked. */
export type Notice = { title: string; items: { text: string; nodeId?: string | null }[] };

/** Validation problems, each naming its node by label (a click on it selects the node). */
export function problemsNotice(problems: Problem[]): Notice {
  const nodes = useEditor.getState().nodes;
  const label = (id: string) => nodes.find((n) => n.id === id)?.data.label ?? id;
  return {
    title: `The workflow has ${problems.length} problem${problems.length === 1 ? "" : "s"} to fix before it can run`,
    items: problems.map((p) => ({
      text: `${p.node_id ? `${label(p.node_id)}${p.field ? ` · ${p.field}` : ""}: ` : ""}${p.message}`,
      nodeId: p.node_id,
    })),
  };
}

/** What went wrong submitting a run, from the API's `{code, message, details}` answer. */
export function submitNotice(response: Response, body: unknown): Notice {
  const error = (body ?? {}) as { code?: string; message?: string; details?: { problems?: unknown } };
  if (response.status === 422 && Array.isArray(error.details?.problems)) return problemsNotice(error.details.problems as Problem[]);
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    return {
      title: "Too many runs started in the last minute",
      items: [{ text: wait ? `Try again in ${wait} s.` : "Try again in a minute." }],
    };
  }
  return { title: "The run could not start", items: [{ text: errorMessage(body ?? `HTTP ${response.status}`) }] };
}
