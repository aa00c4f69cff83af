// The kinds of named connection the API knows (flowza_core/connection_kinds.py) and the fields each asks for:
// public settings (`config`, shown in answers) and secret values (`secret`, write-only).
import type { components } from "../api/schema";

export type Connection = components["schemas"]["ConnectionPublic"];

export type FieldSpec = {
  key: string;
  label: string;
  required: boolean;
  placeholder?: string;
  help?: string;
  /** `headers`: name/value pairs (the http kind's secret headers). */
  input?: "text" | "password" | "headers";
};

export type KindSpec = { title: string; description: string; config: FieldSpec[]; secret: FieldSpec[] };

export const KINDS: Record<string, KindSpec> = {
  postgresql: {
    title: "PostgreSQL",
    description: "A database that SQL query and Database write nodes read and write.",
    config: [],
    secret: [{ key: "url", label: "Database URL", required: true, input: "password",
      placeholder: "postgresql://user:password@host:5432/database" }],
  },
  s3: {
    title: "S3",
    description: "An S3 bucket, or an S3-compatible store such as MinIO.",
    config: [
      { key: "endpoint_url", label: "Endpoint URL", required: false, placeholder: "https://minio.example.com",
        help: "Only for an S3-compatible store; leave empty for AWS." },
      { key: "region", label: "Region", required: false, placeholder: "eu-west-1" },
      { key: "bucket", label: "Bucket", required: false, placeholder: "my-bucket" },
    ],
    secret: [
      { key: "access_key_id", label: "Access key id", required: true, input: "password" },
      { key: "secret_access_key", label: "Secret access key", required: true, input: "password" },
    ],
  },
  http: {
    title: "HTTP API",
    description: "An API that HTTP request nodes call: a base URL and headers sent with every request.",
    config: [{ key: "base_url", label: "Base URL", required: false, placeholder: "https://api.example.com",
      help: "Prefixes a node's relative URL." }],
    secret: [{ key: "headers", label: "Headers", required: true, input: "headers",
      help: "Sent with every request (e.g. Authorization: Bearer …)." }],
  },
  openai: {
    title: "OpenAI-compatible",
    description: "An OpenAI-compatible endpoint and model for LLM nodes.",
    config: [
      { key: "base_url", label: "Base URL", required: true, placeholder: "https://api.openai.com/v1" },
      { key: "model", label: "Model", required: true, placeholder: "gpt-4o-mini" },
    ],
    secret: [{ key: "api_key", label: "API key", required: true, input: "password" }],
  },
};

export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

export function kindTitle(kind: string): string {
  return KINDS[kind]?.title ?? kind;
}

/** A header row of the http kind's secret. */
export type HeaderRow = { name: string; value: string };

/** The values typed for some fields, as the API takes them: empty optional fields left out, headers as an object. */
export function collect(fields: FieldSpec[], values: Record<string, string>, headers: HeaderRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.input === "headers") {
      out[f.key] = Object.fromEntries(headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value]));
    } else if ((values[f.key] ?? "").trim() !== "") {
      out[f.key] = f.input === "password" ? values[f.key] : values[f.key].trim();
    }
  }
  return out;
}

/** The required fields still empty, by label. */
export function missing(fields: FieldSpec[], values: Record<string, string>): string[] {
  return fields.filter((f) => f.required && f.input !== "headers" && !(values[f.key] ?? "").trim()).map((f) => f.label);
}
