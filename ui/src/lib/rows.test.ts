import { describe, expect, it } from "vitest";
import { mergeRows } from "./rows";

const r = (name: string, v = 0) => ({ name, v });

describe("mergeRows", () => {
  it("replaces changed rows in place, inserts new ones in order and drops removed ones", () => {
    const current = [r("a"), r("c"), r("e"), r("g")];
    const next = mergeRows(current, { full: false, rows: [r("f", 1), r("c", 2), r("0", 3)], removed: ["e", "zz"] });
    expect(next).toEqual([r("0", 3), r("a"), r("c", 2), r("f", 1), r("g")]);
    expect(current.map((x) => x.name)).toEqual(["a", "c", "e", "g"]);
  });
  it("takes a full answer as the whole table and keeps the same array when nothing changed", () => {
    const current = [r("a")];
    expect(mergeRows(current, { full: true, rows: [r("b")], removed: [] })).toEqual([r("b")]);
    expect(mergeRows(current, { full: false, rows: [], removed: [] })).toBe(current);
  });
  it("agrees with rebuilding the table for random changes", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    let table = new Map<string, number>();
    let rows: { name: string; v: number }[] = [];
    for (let round = 0; round < 200; round++) {
      const changed = new Map<string, number>();
      const removed = new Set<string>();
      for (let k = rand(20); k > 0; k--) {
        const name = `pod-${rand(60)}`;
        if (rand(3) === 0) { removed.add(name); changed.delete(name); }
        else { changed.set(name, round); removed.delete(name); }
      }
      rows = mergeRows(rows, { full: false, rows: [...changed].map(([name, v]) => ({ name, v })), removed: [...removed].filter((n) => table.has(n)) });
      for (const n of removed) table.delete(n);
      for (const [n, v] of changed) table.set(n, v);
      const expected = [...table].map(([name, v]) => ({ name, v })).sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(rows).toEqual(expected);
    }
  });
});
