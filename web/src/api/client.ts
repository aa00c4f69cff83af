// The typed API client: paths and bodies come from the OpenAPI document (src/api/schema.d.ts, generated).
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

const TOKEN_KEY = "flowza.token";

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

const bearer: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(bearer);

/** Headers for calls made with plain fetch/XHR (uploads with progress, downloads). */
export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The WebSocket URL of an API path on this host (ws:// or wss://), with the token when logged in. */
export function wsUrl(path: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(path, `${scheme}//${window.location.host}`);
  const token = getToken();
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

/** The API's error body `{code, message, details}` (or FastAPI's `{detail}`, or an Error) as one line of text. */
export function errorMessage(error: unknown): string {
  if (error == null) return "Unknown error";
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  if (typeof error === "object") {
    const body = error as { code?: string; message?: string; detail?: unknown; details?: unknown };
    if (body.message) return body.code ? `${body.message} (${body.code})` : body.message;
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail
        .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg ?? ""}`)
        .join("; ");
    }
  }
  return String(error);
}

/** The data of an openapi-fetch result, or throw its error as an Error with the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new Error(result.error !== undefined ? errorMessage(result.error) : `HTTP ${result.response.status}`);
  }
  return result.data as T;
}
