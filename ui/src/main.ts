import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { commands } from "./lib/ipc";

const app = mount(App, { target: document.getElementById("app")! });

// Two frames after mount the first paint is on screen: tell the shell, which records
// the time since launch (docs/benchmarks.md reads it from app_events).
requestAnimationFrame(() => requestAnimationFrame(() => { commands.uiReady().catch(() => {}); }));

export default app;
