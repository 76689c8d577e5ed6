// Cross-screen requests: one screen asks the shell to show another, with what to open there.
import type { SectionId } from "./sections";

export const nav = $state<{ section: SectionId | null; declareFromAlert: string | null; drill: boolean; followUps: boolean }>({
  section: null,
  declareFromAlert: null,
  drill: false,
  followUps: false,
});

/** Show On-call on its Follow-ups tab (Overview's overdue count). */
export function showFollowUps() {
  nav.followUps = true;
  nav.section = "oncall";
}

/** Show Incidents with the drill form open (the demo banner's *Start drill…*). */
export function startDrill() {
  nav.drill = true;
  nav.section = "incidents";
}

/** Show Incidents with the declare form prefilled from the alert `fingerprint`. */
export function declareFromAlert(fingerprint: string) {
  nav.declareFromAlert = fingerprint;
  nav.section = "incidents";
}

/** The alert a declare form should start from, once. */
export function takeDeclareAlert(): string | null {
  const fp = nav.declareFromAlert;
  nav.declareFromAlert = null;
  return fp;
}
