/**
 * Builds the control panel's renderer (React) into renderer/dist, which `mallard panel` and the
 * Electron window both serve. Relative asset paths are not needed: the panel host serves it at /.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
