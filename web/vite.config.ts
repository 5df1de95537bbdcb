import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Built by `npm ci` (prepare → build) into dist/web, which the service serves at /.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Current browsers only; and no polyfill code that the CSP would have to allow.
    target: 'es2022',
    modulePreload: { polyfill: false },
    // Keep every asset a file: a data: URL for a script or font would need a CSP exception.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
