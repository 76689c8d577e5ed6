// The sidebar: every section of the mission, in order, with its keyboard shortcut.
// A section whose feature has not landed names the issue that brings it.

export type SectionId =
  | "overview" | "fleet" | "cluster" | "slos" | "calendar" | "incidents" | "oncall"
  | "changes" | "security" | "maintenance" | "cost" | "gpu" | "experiments" | "reports" | "settings";

export interface Section {
  id: SectionId;
  label: string;
  /**
   * Key for Alt+key: digits 1..9, then 0; `f` for Fleet, `o` for On-call, `y` for Security,
   * `m` for Maintenance, `c` for Cost & Capacity (Alt+K is the cluster switcher's).
   */
  key: string;
  /** Set while the feature is not built yet: one plain line saying what brings it. */
  pending?: string;
}

export const SECTIONS: readonly Section[] = [
  { id: "overview", label: "Overview", key: "1" },
  { id: "fleet", label: "Fleet", key: "f" },
  { id: "cluster", label: "Cluster", key: "2" },
  { id: "slos", label: "SLOs & Alerts", key: "3" },
  { id: "calendar", label: "Calendar", key: "4" },
  { id: "incidents", label: "Incidents", key: "5" },
  { id: "oncall", label: "On-call", key: "o" },
  { id: "changes", label: "Changes", key: "6" },
  { id: "security", label: "Security", key: "y" },
  { id: "maintenance", label: "Maintenance", key: "m" },
  { id: "cost", label: "Cost & Capacity", key: "c" },
  { id: "gpu", label: "GPU", key: "7" },
  { id: "experiments", label: "Experiments", key: "8" },
  { id: "reports", label: "Reports", key: "9" },
  { id: "settings", label: "Settings", key: "0" },
];

/** The section an Alt+digit press selects, if any. */
export function sectionForKey(e: { key: string; altKey: boolean; ctrlKey: boolean; metaKey: boolean }): SectionId | null {
  if (!e.altKey || e.ctrlKey || e.metaKey) return null;
  return SECTIONS.find((s) => s.key === e.key.toLowerCase())?.id ?? null;
}

/** The section before or after `current`, wrapping around. */
export function stepSection(current: SectionId, delta: 1 | -1): SectionId {
  const i = SECTIONS.findIndex((s) => s.id === current);
  const n = SECTIONS.length;
  return SECTIONS[(((i + delta) % n) + n) % n].id;
}
