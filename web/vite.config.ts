import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `vite` (dev) forwards API calls to a running `flowza up`; the production build is served by the API itself.
const api = `http://127.0.0.1:${process.env.FLOWZA_API_PORT ?? "8000"}`;

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: api, ws: true },
      "/health": api,
      "/ws": { target: api, ws: true },
    },
  },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1200 },
});
