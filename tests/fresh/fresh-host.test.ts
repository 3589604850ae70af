/**
 * `npm run test:fresh`: the README's set-up proved from bare machines. For Debian 12 and
 * Debian 13, a minimal root with only what a fresh machine has (tests/fresh/hosts.ts) gets
 * a clean clone of this repository; inside it, as a newcomer would, `npm start` runs until
 * it serves a lesson (installing npm packages, the host's Debian packages, and building the
 * sandbox runtime on the way), then one script sandbox and one FastAPI server sandbox run
 * through the runner's WebSocket protocol and must satisfy their claims; last, the clone
 * must be as clean as it was (`git status`). Each step's time is printed.
 *
 * The fresh host is a bubblewrap container as root (full capabilities, the host's /proc
 * and /sys for nested namespaces and cgroups, the host's network), which is what the set-up
 * scripts need of a real machine: root for apt-get, mount rights for mmdebstrap, user
 * namespaces or root for the runner's bubblewrap, a writable cgroup hierarchy.
 * Cached between runs (outside the repository): each host's base root, as a tarball (a new
 * copy is unpacked every run), and npm's download cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureHostTarball, freshCache, freshHosts, runLogged, type FreshHost } from './hosts.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const lesson = '/en/lessons/why-async/';
const sandboxes = ['why-async-concurrent', 'async-def-vs-def'];
const inside = '/root/asynclab';

interface Timing {
  step: string;
  seconds: number;
}

async function timed<T>(timings: Timing[], step: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    timings.push({ step, seconds });
    console.log(`[fresh] ${step}: ${seconds} s`);
  }
}

/** bubblewrap arguments that make `root` a machine of its own, as root (see the file comment). */
function container(root: string, npmCache: string, env: Record<string, string>): string[] {
  return [
    '--bind',
    root,
    '/',
    '--dev-bind',
    '/dev',
    '/dev',
    // The host's /proc, not a new one: bubblewrap's own --proc covers /proc/sys and friends
    // with read-only binds, and the kernel then refuses a nested user namespace (the runner's
    // sandboxes, the runtime check) a proc mount of its own ("mount_too_revealing").
    '--bind',
    '/proc',
    '/proc',
    '--bind',
    '/sys',
    '/sys',
    '--ro-bind',
    '/etc/resolv.conf',
    '/etc/resolv.conf',
    '--bind',
    npmCache,
    '/root/.npm',
    // No PID namespace: with the host's /proc, a process must find itself there under the
    // pid it knows (bubblewrap inside opens /proc/<its pid>/ns/…).
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    'fresh',
    '--die-with-parent',
    '--cap-add',
    'ALL',
    '--clearenv',
    ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
    '--chdir',
    inside,
    '--',
  ];
}

/**
 * The network settings a new machine on this network gets from its administrator, not
 * from us: the CA bundle the machine trusts (here it includes the TLS proxy in front of
 * the npm registry), handed to npm and Node, and any proxy variables.
 */
function networkTrust(root: string): Record<string, string> {
  const bundle = process.env.NODE_EXTRA_CA_CERTS || process.env.SSL_CERT_FILE || '/etc/ssl/certs/ca-certificates.crt';
  const env: Record<string, string> = {};
  if (existsSync(bundle)) {
    copyFileSync(bundle, path.join(root, 'etc', 'asynclab-host-ca.crt'));
    env.NODE_EXTRA_CA_CERTS = '/etc/asynclab-host-ca.crt';
    env.npm_config_cafile = '/etc/asynclab-host-ca.crt';
  }
  for (const name of ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']) {
    if (process.env[name]) env[name] = process.env[name]!;
  }
  return env;
}

async function waitForLesson(port: number, start: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited: string | undefined;
  start.once('close', (code, signal) => (exited = `npm start ended (${signal ?? `exit ${code}`}) before serving`));
  while (performance.now() < deadline) {
    if (exited) throw new Error(exited);
    try {
      const response = await fetch(`http://127.0.0.1:${port}${lesson}`);
      if (response.ok && (await response.text()).includes('<main')) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`no lesson served at http://127.0.0.1:${port}${lesson} within ${timeoutMs / 1000} s`);
}

/** Every process whose root is the fresh host's (npm start, the site server, runs): SIGKILL until none is left. */
function killInside(root: string): void {
  for (let round = 0; round < 20; round++) {
    let found = 0;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        if (readlinkSync(`/proc/${pid}/root`) !== root) continue;
        found += 1;
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    if (!found) return;
    execFileSync('sleep', ['0.2']);
  }
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      resolve();
    }
  });
}

async function newcomer(host: FreshHost, port: number): Promise<void> {
  const timings: Timing[] = [];
  const work = await mkdtemp(path.join('/var/tmp', `asynclab-fresh-${host.name}-`));
  const root = path.join(work, 'root');
  const npmCache = path.join(freshCache(), 'npm');
  await mkdir(npmCache, { recursive: true });
  let start: ChildProcess | undefined;
  try {
    const tarball = await timed(timings, `${host.release}: base root (cached after the first build)`, () => ensureHostTarball(host));
    await timed(timings, 'unpack a new copy of it', async () => {
      await mkdir(root);
      execFileSync('tar', ['-xf', tarball, '-C', root]);
    });
    await timed(timings, 'clean clone of the repository', async () => {
      execFileSync('git', ['clone', '--quiet', '--no-hardlinks', projectRoot, path.join(root, inside)]);
    });
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/root', LANG: 'C.UTF-8', PORT: String(port), TERM: 'dumb', CI: 'true', ...networkTrust(root) };
    await timed(timings, 'npm start until it serves a lesson (npm install, apt-get, runtime build, site build)', async () => {
      start = spawn('bwrap', [...container(root, npmCache, env), 'npm', 'start'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const begun = performance.now();
      for (const stream of [start.stdout!, start.stderr!]) {
        stream.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString('utf8').split(/\r?\n/)) {
            if (line.trim()) process.stdout.write(`[${host.name} +${Math.round((performance.now() - begun) / 1000)} s] ${line}\n`);
          }
        });
      }
      await waitForLesson(port, start, 20 * 60_000);
    });
    await timed(timings, `run ${sandboxes.join(' and ')} through the runner protocol and check their claims`, () =>
      runLogged(`[${host.name} probe]`, 'bwrap', [...container(root, npmCache, env), 'node_modules/.bin/node', 'tests/fresh/probe.ts', String(port), lesson, ...sandboxes], {
        timeoutMs: 5 * 60_000,
      }),
    );
    await stopGroup(start!);
    const status = execFileSync('git', ['-C', path.join(root, inside), 'status', '--porcelain'], { encoding: 'utf8' });
    assert.equal(status, '', `npm start left the clone changed:\n${status}`);
    console.log(`[fresh] ${host.release} in ${timings.reduce((sum, t) => sum + t.seconds, 0).toFixed(1)} s: ${timings.map((t) => `${t.step.split(':')[0]} ${t.seconds} s`).join('; ')}`);
  } finally {
    if (start) await stopGroup(start);
    killInside(root);
    if (existsSync(work)) await rm(work, { recursive: true, force: true });
  }
}

for (const [i, host] of freshHosts.entries()) {
  test(`${host.release}: a newcomer's npm start serves a lesson, and a script and a FastAPI sandbox keep their claims`, { timeout: 30 * 60_000 }, async () => {
    await newcomer(host, 4610 + i);
  });
}
