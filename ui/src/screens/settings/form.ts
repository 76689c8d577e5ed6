// Turns the nested config into flat, labelled fields and back, so Settings can show
// every key the file has without a hand-written form per section.

export type Scalar = string | number | boolean | string[];
export interface Field { key: string; path: string[]; value: Scalar; kind: "text" | "number" | "bool" | "choice" | "list"; choices?: string[] }
export interface Group { key: string; fields: Field[] }

const CHOICES: Record<string, string[]> = { "ui.theme": ["dark", "light"] };

/** Groups of fields, one per table of the file, in file order. */
export function flatten(obj: Record<string, unknown>, prefix: string[] = []): Group[] {
  const groups: Group[] = [];
  const own: Field[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = [...prefix, k];
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      groups.push(...flatten(v as Record<string, unknown>, path));
    } else {
      const key = path.join(".");
      const kind = CHOICES[key] ? "choice" : Array.isArray(v) ? "list" : typeof v === "number" ? "number" : typeof v === "boolean" ? "bool" : "text";
      own.push({ key, path, value: v as Scalar, kind, choices: CHOICES[key] });
    }
  }
  return own.length ? [{ key: prefix.join("."), fields: own }, ...groups] : groups;
}

/** A list key as the form shows it (`a, b`) and back: items split at commas, trimmed,
 *  empty ones dropped. */
export function listText(v: Scalar): string {
  return Array.isArray(v) ? v.join(", ") : String(v);
}
export function parseList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A copy of `obj` with the value at `path` replaced. */
export function setIn<T>(obj: T, path: string[], value: Scalar): T {
  if (path.length === 0) return obj;
  const [head, ...rest] = path;
  const o = obj as Record<string, unknown>;
  return { ...o, [head]: rest.length ? setIn(o[head], rest, value) : value } as T;
}

/** The documentation line for a key; `severities.P1.x` uses `severities.*.x`. */
export function docFor(docs: { key: string; doc: string }[], key: string): string {
  const generic = key.replace(/^severities\.P[0-3]\./, "severities.*.");
  return docs.find((d) => d.key === key)?.doc ?? docs.find((d) => d.key === generic)?.doc ?? "";
}
