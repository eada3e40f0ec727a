import { defineConfig } from 'vite';

// `npm run dev` serves the app with hot reload and forwards the hub path to a
// running signalrtc-hub (SIGNALRTC_HUB, default http://127.0.0.1:5000), so the
// page and the hub share an origin as they do in production.
const hub = process.env.SIGNALRTC_HUB || 'http://127.0.0.1:5000';

// The output directory can be chosen from outside: the project's meson build
// runs `vite build --outDir DIR --emptyOutDir`, and
// `SIGNALRTC_WEB_OUT=DIR npm run build` does the same. `base: './'` makes
// every asset URL relative, so the built app works wherever it is served from
// (signalrtc-hub --web-root DIR serves it at /).
export default defineConfig({
  base: './',
  server: {
    proxy: {
      '/signalrtc': { target: hub, ws: true },
    },
  },
  build: {
    outDir: process.env.SIGNALRTC_WEB_OUT || 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      output: {
        // Each SignalR client is loaded with import() when the page asks for
        // it; give their chunks readable names.
        manualChunks: {
          'signalr-microsoft': ['@microsoft/signalr'],
          'signalr-aspnet': ['@aspnet/signalr'],
        },
      },
      onwarn(warning, warn) {
        // @microsoft/signalr has /*#__PURE__*/ comments Rollup cannot place;
        // they are dropped, harmlessly. Everything else is reported.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
