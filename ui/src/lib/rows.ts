// A table kept from what changed: the backend sends the rows added or changed since the
// last read and the names of those gone; merging them into the sorted table is one pass
// (O(rows + changes)) instead of rebuilding it, so 50,000 pods redraw in milliseconds.

export interface Named {
  name: string;
}

export interface Delta<T extends Named> {
  /** True when `rows` is the whole table. */
  full: boolean;
  /** Rows added or changed, sorted by name (the whole table when `full`). */
  rows: T[];
  /** Names of rows gone. */
  removed: string[];
}

const byName = (a: Named, b: Named) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The table after `delta`, sorted by name; `current` is not modified. */
export function mergeRows<T extends Named>(current: T[], delta: Delta<T>): T[] {
  if (delta.full) return delta.rows;
  if (delta.rows.length === 0 && delta.removed.length === 0) return current;
  const gone = new Set(delta.removed);
  const changed = [...delta.rows].sort(byName);
  const out: T[] = [];
  let j = 0;
  for (const row of current) {
    while (j < changed.length && changed[j].name < row.name) out.push(changed[j++]);
    if (j < changed.length && changed[j].name === row.name) {
      out.push(changed[j++]);
    } else if (!gone.has(row.name)) {
      out.push(row);
    }
  }
  while (j < changed.length) out.push(changed[j++]);
  return out;
}
