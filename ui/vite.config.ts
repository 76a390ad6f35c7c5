import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Built into static files that tracefeed serves at "/"; nothing is fetched from a CDN at run
// time. `TRACEFEED_UI_OUT` (set by CMake) puts the output in the build tree.
export default defineConfig({
  plugins: [preact()],
  base: "./",
  build: {
    outDir: process.env.TRACEFEED_UI_OUT ?? "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2020",
  },
  server: {
    // `npm run dev` against a running `tracefeed run`.
    proxy: { "/api": "http://127.0.0.1:8080", "/metrics": "http://127.0.0.1:8080" },
  },
});
