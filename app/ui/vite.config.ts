import { defineConfig } from "vite";

// The Tauri shell loads dist/ (embedded at build time) or this dev server (`tauri dev`).
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "es2021", outDir: "dist", emptyOutDir: true },
});
