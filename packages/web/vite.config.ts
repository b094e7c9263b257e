import { defineConfig } from 'vite';

// No React plugin: esbuild compiles TSX with the automatic runtime, which is all a production build needs.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The CSP allows only same-origin scripts: no inline module-preload polyfill, no eval.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
    rollupOptions: {
      // Mantine marks its modules "use client" for React Server Components; a client-only bundle can ignore that.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // `npm run dev -w @aim/web` next to `npm start`: the API is proxied, so cookies stay same-origin.
    proxy: { '/api': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' },
  },
});
