/**
 * `npm run test:containers` (opt-in, not part of `npm test`): the deploy/ files, built and run for
 * real. It needs what our CI machines lack: a container engine that answers (podman; the node's
 * image build needs `--cap-add=SYS_ADMIN`, which `docker build` cannot ask for) and registry access
 * for the base images (docker.io debian:trixie-slim, redis:8). Without them it fails, never skips,
 * saying what is missing — the same contract as `npm run test:online`.
 *
 * What it proves: both images build with the commands the Containerfiles document; compose.yaml
 * starts Redis, a gateway and three nodes with the privileges it names; the gateway turns ready;
 * a page (an allowed Origin) runs a real sandbox through it on a node isolated by bubblewrap, and
 * its trace keeps the sandbox's claim; a foreign Origin is refused; `compose down` leaves nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadSandbox } from '../../src/sandbox/load-sandbox.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { Page } from '../fleet/helpers.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const compose = path.join(root, 'deploy', 'compose.yaml');
const origin = 'http://course.example.test';
const gateway = 'http://127.0.0.1:8787';
const env = {
  ...process.env,
  ASYNCLAB_FLEET_SECRET: randomBytes(32).toString('base64url'),
  ASYNCLAB_CLIENT_SALT: randomBytes(16).toString('base64url'),
  ASYNCLAB_PUBLIC_ORIGINS: origin,
};

function podman(args: string[], timeoutMs = 1_800_000): void {
  const result = spawnSync('podman', args, { cwd: root, env, stdio: 'inherit', timeout: timeoutMs });
  if (result.status !== 0) throw new Error(`podman ${args.slice(0, 3).join(' ')} … failed (${result.error?.message ?? `exit ${result.status}`})`);
}

/** Whether compose was asked to start anything (only then is there something to take down). */
let started = false;

before(() => {
  try {
    execFileSync('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { stdio: 'pipe', timeout: 30_000 });
  } catch {
    throw new Error('test:containers needs podman with a working engine (`podman info` fails here), plus registry access to docker.io for debian:trixie-slim and redis:8');
  }
  // The commands the Containerfiles' own comments give.
  podman(['build', '--cap-add=SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '-f', 'deploy/node.Containerfile', '-t', 'asynclab-node', '.']);
  podman(['build', '-f', 'deploy/gateway.Containerfile', '-t', 'asynclab-gateway', '.']);
  started = true;
  podman(['compose', '-f', compose, 'up', '-d']);
});

after(() => {
  if (!started) return;
  podman(['compose', '-f', compose, 'down', '--volumes', '--timeout', '20'], 300_000);
  const left = execFileSync('podman', ['ps', '--all', '--filter', 'label=com.docker.compose.project=asynclab-fleet', '--format', '{{.Names}}'], { env }).toString().trim();
  assert.equal(left, '', 'compose down leaves no container');
});

async function untilReady(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${gateway}/readyz`);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`the gateway was not ready within ${ms / 1000} s (last answer: ${last.slice(0, 200)})`);
}

test('the compose fleet turns ready and runs a real sandbox on a bwrap-isolated node, keeping its claim', { timeout: 600_000 }, async () => {
  await untilReady(180_000);
  const sandbox = await loadSandbox(path.join(root, 'sandboxes'), 'why-async-concurrent', root);
  const page = new Page(`${gateway.replace('http', 'ws')}/__runner`, origin);
  try {
    await page.opened;
    const hello = await page.waitFor((m) => m.type === 'hello');
    assert.equal(hello.type === 'hello' && hello.isolation, 'bwrap');
    page.run('c1', { manifest: sandbox.manifest, files: sandbox.files });
    const exit = await page.exit('c1', 120_000);
    assert.equal(exit.reason, null, exit.reason?.message);
    const events: ServerMessage[] = page.messages.filter((m) => 'runId' in m && m.runId === 'c1');
    const trace = events.flatMap((e) => (e.type === 'trace' ? e.data.split('\n') : []));
    const failures = explainFailures(checkExpect(sandbox.manifest.expect ?? {}, buildModel(trace), { exitCode: exit.code, stdout: page.stdoutOf('c1') }));
    assert.equal(failures, '', `the claim of why-async-concurrent through the containers: ${failures}`);
  } finally {
    page.close();
  }
});

test('the containerised gateway refuses a foreign Origin before any work', async () => {
  const foreign = new Page(`${gateway.replace('http', 'ws')}/__runner`, 'https://elsewhere.example');
  await assert.rejects(foreign.opened, /refused: 403/);
});
