import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { commands } from "./lib/ipc";

// Collect page errors so the e2e specs (and anyone in the inspector) can see them.
declare global { interface Window { __hsofErrors: string[] } }
window.__hsofErrors = [];
const origError = console.error.bind(console);
console.error = (...args: unknown[]) => { window.__hsofErrors.push(args.map(String).join(" ")); origError(...args); };
window.addEventListener("error", (e) => window.__hsofErrors.push(`error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => window.__hsofErrors.push(`unhandled rejection: ${String(e.reason)}`));

const scriptAt = performance.now();
const app = mount(App, { target: document.getElementById("app")! });
const mountedAt = performance.now();

// Two frames after mount the first paint is on screen: tell the shell, which records
// the time since launch with the page's own marks (docs/benchmarks.md reads it from app_events).
requestAnimationFrame(() => requestAnimationFrame(() => {
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  commands.uiReady({
    origin_epoch_ms: performance.timeOrigin,
    html_ms: nav?.responseEnd ?? null,
    script_ms: scriptAt,
    mounted_ms: mountedAt,
    painted_ms: performance.now(),
  }).catch(() => {});
}));

export default app;
