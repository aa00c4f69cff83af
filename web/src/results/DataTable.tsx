// A node's table, a page at a time: column names with types, nulls shown faint, numbers right-aligned.
import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import type { OutputSummary } from "../runs/runTypes";
import { formatCell } from "./formatValue";
import { fetchPage, fetchRows, saveBlob, toCsv, type Page } from "./resultsApi";

/** The whole table is fetched for a download up to this many rows (the API has no table download yet). */
const DOWNLOAD_MAX_ROWS = 200_000;

type Props = { runId: string; nodeId: string; port: string; output: OutputSummary; pageSize: number; wide?: boolean };

export function DataTable({ runId, nodeId, port, output, pageSize, wide }: Props) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const total = page?.total_rows ?? output.rows ?? 0;
  const columns = page?.columns ?? output.columns ?? [];
  const dtypes = output.dtypes ?? {};

  useEffect(() => setOffset(0), [runId, nodeId, port]);
  useEffect(() => {
    let stale = false;
    setLoading(true);
    fetchPage(runId, nodeId, port, offset, pageSize)
      .then((p) => !stale && (setPage(p), setError(null)))
      .catch((e) => !stale && setError(errorMessage(e)))
      .finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [runId, nodeId, port, offset, pageSize]);

  const download = async () => {
    setDownloading(true);
    try {
      const all = await fetchRows(runId, nodeId, port, DOWNLOAD_MAX_ROWS);
      saveBlob(new Blob([toCsv(all.columns, all.rows)], { type: "text/csv;charset=utf-8" }), `${nodeId}-${port}.csv`);
      if (all.total_rows > all.rows.length) toast.info(`Downloaded the first ${all.rows.length.toLocaleString()} rows.`);
    } catch (e) {
      toast.error(`Download failed: ${errorMessage(e)}`);
    } finally {
      setDownloading(false);
    }
  };

  const last = Math.min(offset + pageSize, total);
  return (
    <div className={`data-table ${wide ? "wide" : ""}`}>
      <div className="data-table-bar">
        <span className="data-table-range" aria-live="polite">
          {total ? `Rows ${(offset + 1).toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}` : "No rows"}
          {wide && ` · ${columns.length} columns`}
        </span>
        {loading && <span className="spinner" aria-label="Loading" />}
        <span className="data-table-actions">
          <button type="button" className="icon-btn" aria-label="Previous page" disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - pageSize))}>
            <Icon name="chevronRight" size={15} className="flip" />
          </button>
          <button type="button" className="icon-btn" aria-label="Next page" disabled={last >= total}
            onClick={() => setOffset(offset + pageSize)}>
            <Icon name="chevronRight" size={15} />
          </button>
          <button type="button" className="btn btn-sm" onClick={() => void download()} disabled={downloading || !total}>
            {downloading ? <span className="spinner" /> : <Icon name="download" size={13} />} CSV
          </button>
        </span>
      </div>
      {error ? (
        <p className="results-error">
          <Icon name="alert" size={14} /> Could not read the table: {error}
        </p>
      ) : (
        <div className="data-table-scroll" tabIndex={0} aria-label={`Table ${nodeId}.${port}`}>
          <table>
            <thead>
              <tr>
                <th scope="col" className="row-number">#</th>
                {columns.map((c) => (
                  <th scope="col" key={c} title={`${c} (${dtypes[c] ?? "?"})`}
                    className={/^(u?int|float)/.test(dtypes[c] ?? "") ? "num" : undefined}>
                    <span className="col-name">{c}</span>
                    {dtypes[c] && <span className="col-type">{dtypes[c]}</span>}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(page?.rows ?? []).map((row, i) => (
                <tr key={offset + i}>
                  <td className="row-number">{offset + i + 1}</td>
                  {columns.map((c) => {
                    const value = row[c];
                    return (
                      <td key={c} className={value == null ? "null" : typeof value === "number" ? "num" : undefined}>
                        {value == null ? "null" : formatCell(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
