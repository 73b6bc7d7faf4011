/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

// The app talks to the API on its own origin (/api); in development Vite forwards those
// requests to the backend so cookies and the CSRF Origin check behave as in production.
const backend = process.env.API_PROXY_TARGET ?? 'http://127.0.0.1:8080';

/**
 * Writes the service worker (src/sw/sw.js) to dist/sw.js once everything else is written, with
 * the list of built files to precache and a hash of their contents as its version: a deployment
 * that changes any file is a new worker, which the browser installs on the next load. (No
 * plugin package: vite-plugin-pwa would bring Workbox's build tool for the same ~30 lines.)
 */
function serviceWorker(): Plugin {
  let outDir = 'dist';
  return {
    name: 'todo-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir);
    },
    closeBundle() {
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (entry.name !== 'sw.js') files.push(path);
        }
      };
      walk(outDir);
      const paths = files.map((f) => `/${relative(outDir, f).split(sep).join('/')}`);
      const hash = createHash('sha256');
      files.forEach((f, i) => hash.update(paths[i]!).update(readFileSync(f)));
      const build = { version: hash.digest('hex').slice(0, 16), files: paths };
      const source = readFileSync(new URL('./src/sw/sw.js', import.meta.url), 'utf8');
      const marker = /\/\* build \*\/.*\/\* build \*\//;
      if (!marker.test(source)) throw new Error('src/sw/sw.js: the /* build */ … /* build */ marker is missing');
      writeFileSync(join(outDir, 'sw.js'), source.replace(marker, JSON.stringify(build)));
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false, ws: false },
    },
  },
  build: { target: 'es2022', sourcemap: false },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // CI machines have two cores shared with the Rust build; jsdom tests can be slow there.
    testTimeout: 20_000,
  },
});
