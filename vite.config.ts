import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The UI lives in ui/; the Tauri shell embeds the build from dist/.
export default defineConfig({
  root: "ui",
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { outDir: "../dist", emptyOutDir: true, target: "safari15", chunkSizeWarningLimit: 400 },
  test: { root: ".", include: ["ui/src/**/*.test.ts"], environment: "node" },
});
