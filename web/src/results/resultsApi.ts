// Reading a node's outputs: pages of a table, every row of a small table, downloads that carry the token.
import { api, authHeaders, unwrap } from "../api/client";

export type Page = { total_rows: number; columns: string[]; rows: Record<string, unknown>[]; offset: number };

export async function fetchPage(runId: string, nodeId: string, port: string, offset: number, limit: number): Promise<Page> {
  const answer = await api.GET("/api/tasks/{task_id}/dataset", {
    params: { path: { task_id: `${runId}:${nodeId}` }, query: { port, offset, limit } },
  });
  return unwrap(answer) as unknown as Page;
}

/** Every row of a table, a thousand at a time, up to `max` rows. */
export async function fetchRows(runId: string, nodeId: string, port: string, max: number): Promise<Page> {
  const first = await fetchPage(runId, nodeId, port, 0, Math.min(1000, max));
  const rows = [...first.rows];
  while (rows.length < Math.min(first.total_rows, max)) {
    const next = await fetchPage(runId, nodeId, port, rows.length, Math.min(1000, max - rows.length));
    if (!next.rows.length) break;
    rows.push(...next.rows);
  }
  return { ...first, rows };
}

function csvCell(value: unknown): string {
  if (value == null) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  return [columns.map(csvCell).join(","), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(","))].join("\n");
}

export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Fetch a file with the session's token (plain links cannot send it) and save it under its server name. */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.message ?? `HTTP ${response.status}`);
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const named = disposition.match(/filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i);
  const filename = named ? decodeURIComponent(named[1] ?? named[2]) : fallbackName;
  saveBlob(await response.blob(), filename);
}

export function modelPath(name: string): string {
  return `/api/models/${encodeURIComponent(name)}`;
}
