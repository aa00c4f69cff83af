// An image the API serves (MLflow plots), fetched with the session's token and shown from a blob URL.
import { useEffect, useState } from "react";
import { authHeaders } from "../api/client";

export function useAuthedImage(url: string | null): { src: string | null; failed: boolean } {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!url) return;
    let objectUrl: string | null = null;
    let stale = false;
    setFailed(false);
    fetch(url, { headers: authHeaders() })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((blob) => {
        if (stale) return;
        objectUrl = URL.createObjectURL(blob);
        setSrc(objectUrl);
      })
      .catch(() => !stale && setFailed(true));
    return () => {
      stale = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url]);
  return { src, failed };
}
