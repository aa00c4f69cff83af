// A JSON value typed as text (an object-typed parameter such as headers, or any JSON value such as a body):
// sent once it parses, the parse error shown under it until then. Empty means the default.
import { useEffect, useState } from "react";
import type { FieldProps } from "../ParameterField";

export function JsonInput({ id, label, schema, value, invalid, onChange }: FieldProps<unknown>) {
  const shown = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [problem, setProblem] = useState<string | null>(null);
  // A value changed elsewhere (undo, a fix) replaces the text, unless the text already means that value.
  useEffect(() => setText((current) => (same(current, value) ? current : shown)), [shown]);
  const wantsObject = schema.type === "object";

  const read = (raw: string) => {
    setText(raw);
    if (raw.trim() === "") {
      setProblem(null);
      onChange(undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      setProblem(`Not valid JSON: ${(e as Error).message}`);
      return;
    }
    if (wantsObject && (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))) {
      setProblem(`Must be a JSON object: {"name": value, …}`);
      return;
    }
    setProblem(null);
    onChange(parsed);
  };

  return (
    <>
      <textarea
        id={id}
        className={`textarea code json-input ${invalid || problem ? "invalid" : ""}`}
        aria-label={label}
        aria-invalid={invalid || !!problem || undefined}
        rows={Math.min(Math.max(text.split("\n").length, 2), 10)}
        spellCheck={false}
        placeholder={wantsObject ? '{"name": "value"}' : "JSON: an object, a list, text in quotes, a number…"}
        value={text}
        onChange={(e) => read(e.target.value)}
      />
      {problem && <p className="field-error" role="alert" data-testid={`json-problem-${id}`}>{problem}</p>}
    </>
  );
}

function same(text: string, value: unknown): boolean {
  if (text.trim() === "") return value === undefined;
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}
