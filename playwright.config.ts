import { defineConfig, devices } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './src/tools/chromium.ts';

/**
 * e2e tests run in Debian's Chromium against the built site, served three ways:
 * - by our own server with the runner (src/server, `npm start`): tests/e2e/*.spec.ts;
 * - by a plain static server, as any static host would (no runner, no isolation headers),
 *   and by one that sends the COOP/COEP headers of public/_headers: tests/e2e/static-host/;
 * - measured/: responsiveness measured as the reader feels it (key press → frame under a
 *   flood of output). That project runs alone, after the others, with one worker: on a
 *   2-core machine a Pyodide boot in the other worker would otherwise be in the figures;
 * - opt-in, online only: a real WebContainer (WEBCONTAINER_E2E=1): tests/e2e/online/.
 * Without WEBCONTAINER_E2E=1 the online project does not exist, so it is neither run nor
 * counted; with it, offline, its test fails rather than skips.
 */
const port = Number(process.env.E2E_PORT ?? 4399);
const staticPort = port - 1;
const isolatedStaticPort = port - 2;
const online = process.env.WEBCONTAINER_E2E === '1';

const chromium = {
  ...devices['Desktop Chrome'],
  launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
};

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: true,
  reporter: process.env.CI ? [['list'], ['github']] : 'list',
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'chromium', testIgnore: ['static-host/**', 'online/**', 'measured/**'], use: chromium },
    {
      name: 'static-host',
      testDir: 'tests/e2e/static-host',
      use: { ...chromium, baseURL: `http://127.0.0.1:${staticPort}` },
      metadata: { isolatedBaseURL: `http://127.0.0.1:${isolatedStaticPort}` },
    },
    { name: 'measured', testDir: 'tests/e2e/measured', workers: 1, dependencies: ['chromium', 'static-host'], use: chromium },
    ...(online ? [{ name: 'webcontainer-online', testDir: 'tests/e2e/online', timeout: 180_000, use: { ...chromium, baseURL: `http://127.0.0.1:${isolatedStaticPort}` } }] : []),
  ],
  webServer: [
    {
      command: 'node src/server/main.ts',
      env: { PORT: String(port) },
      url: `http://127.0.0.1:${port}/`,
      reuseExistingServer: false,
      stdout: 'pipe',
      timeout: 30_000,
    },
    {
      command: 'node tests/e2e/static-host/static-server.ts',
      env: { PORT: String(staticPort) },
      url: `http://127.0.0.1:${staticPort}/`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: 'node tests/e2e/static-host/static-server.ts',
      env: { PORT: String(isolatedStaticPort), STATIC_ISOLATION: '1' },
      url: `http://127.0.0.1:${isolatedStaticPort}/`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
});
