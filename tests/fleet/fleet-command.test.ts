/**
 * `npm run fleet` itself: it brings up Redis, a gateway and the nodes, serves the site on its own
 * origin, runs a reader's sandbox, and on Ctrl-C stops every process it started; a failure is one
 * line and a non-zero exit. From a fresh clone it builds its site itself, for its own gateway
 * (a real build, once, here), and the next start reuses that build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { siteState, stampName } from '../../src/fleet/fleet-site.ts';
import { Page, scriptRun } from './helpers.ts';

const script = fileURLToPath(new URL('../../src/fleet/fleet.ts', import.meta.url));

/** Live processes whose environment or command line mentions `text` (this process excluded). */
async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const read = (file: string) => readFile(`/proc/${name}/${file}`, 'latin1').catch(() => '');
    const [environ, cmdline] = await Promise.all([read('environ'), read('cmdline')]);
    if (environ.includes(text) || cmdline.includes(text)) found.push(Number(name));
  }
  return found;
}

test('npm run fleet: site and gateway up, a run through it, and Ctrl-C leaves nothing running', { timeout: 120_000 }, async () => {
  const site = await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-site-'));
  await writeFile(path.join(site, 'index.html'), '<!doctype html><title>site</title>');
  // In a process group of its own, so that Ctrl-C can be sent as a terminal sends it: to the whole group.
  const fleet = spawn(process.execPath, [script, '--nodes', '2', '--gateway-port', '0', '--site-port', '0', '--site-dir', site], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => fleet.once('exit', (code) => resolve(code)));
  try {
    const up = new Promise<void>((resolve, reject) => {
      for (const stream of [fleet.stdout, fleet.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          if (line.startsWith('Ctrl-C stops everything')) resolve();
        });
      }
      fleet.once('exit', () => reject(new Error(`the fleet exited: ${lines.slice(-5).join(' | ')}`)));
    });
    await up;
    const text = lines.join('\n');
    const siteUrl = /site: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)![1]!;
    const gatewayUrl = /gateway: +(ws:\/\/127\.0\.0\.1:\d+\/__runner)/.exec(text)![1]!;
    const socket = /Redis on (\S+)/.exec(text)![1]!;
    assert.equal((await fetch(siteUrl)).status, 200);
    assert.match(await (await fetch(siteUrl)).text(), /<title>site<\/title>/);
    const origin = new URL(siteUrl).origin;
    const page = new Page(gatewayUrl, origin);
    await page.opened;
    page.run('one', scriptRun('print("through the fleet")\n'));
    const exit = await page.exit('one', 60_000);
    assert.equal(exit.reason, null, JSON.stringify(exit));
    assert.equal(page.stdoutOf('one'), 'through the fleet\n');
    page.close();
    assert.ok((await processesMentioning(socket)).length >= 4, 'Redis, the gateway and two nodes use the socket');

    process.kill(-fleet.pid!, 'SIGINT');
    assert.equal(await exited, 0, lines.slice(-8).join('\n'));
    assert.match(lines.at(-1)!, /fleet: stopped/);
    assert.deepEqual(await processesMentioning(socket), [], 'a process of the fleet outlived it');
  } finally {
    if (fleet.exitCode === null) process.kill(-fleet.pid!, 'SIGKILL');
    await rm(site, { recursive: true, force: true });
  }
});

/** Runs fleet.ts with `args` to its exit: its code and what it printed on stderr. */
async function failing(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const fleet = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  fleet.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  fleet.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => fleet.once('exit', (c) => resolve(c)));
  return { code, stderr, stdout };
}

test('npm run fleet refusing to start says why in one line: a missing prebuilt site, a build with no fixed gateway port, a port in use', async () => {
  const missing = await failing(['--site-dir', '/nonexistent-asynclab-site']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /^fleet: no built site in \/nonexistent-asynclab-site: leave out --site-dir and npm run fleet builds one/);

  const build = await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-build-'));
  const holder = createServer();
  try {
    const anyPort = await failing(['--gateway-port', '0', '--build-dir', build]);
    assert.equal(anyPort.code, 2);
    assert.equal(anyPort.stderr.trim().split('\n').length, 1, anyPort.stderr);
    assert.match(anyPort.stderr, /^fleet: --gateway-port 0 cannot be used to build the site/);

    const both = await failing(['--site-dir', build, '--rebuild']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^fleet: --site-dir serves a prebuilt site as it is/);

    // A port taken: refused before a minute of building, not after.
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const busy = await failing(['--gateway-port', String(taken), '--build-dir', build]);
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr.trim().split('\n').length, 1, busy.stderr);
    assert.equal(busy.stderr.trim(), `fleet: port ${taken} is in use: pass --gateway-port`);
    assert.doesNotMatch(busy.stdout, /building/);
    assert.deepEqual(await readdir(build), [], 'nothing was built');
  } finally {
    holder.close();
    await rm(build, { recursive: true, force: true });
  }
});

test('a site is up to date only when its build finished for this very gateway address', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-stamp-'));
  const url = 'ws://127.0.0.1:8787/__runner';
  try {
    assert.equal(siteState(path.join(dir, 'absent'), url).ready, false);
    await writeFile(path.join(dir, 'index.html'), '<!doctype html>');
    const unstamped = siteState(dir, url);
    assert.ok(!unstamped.ready && /not built by npm run fleet/.test(unstamped.why), JSON.stringify(unstamped));
    await writeFile(path.join(dir, stampName), JSON.stringify({ runnerUrl: 'ws://127.0.0.1:9999/__runner', builtAt: '' }));
    const other = siteState(dir, url);
    assert.ok(!other.ready && /built for ws:\/\/127\.0\.0\.1:9999\/__runner, not ws:\/\/127\.0\.0\.1:8787/.test(other.why), JSON.stringify(other));
    await writeFile(path.join(dir, stampName), JSON.stringify({ runnerUrl: url, builtAt: '' }));
    assert.deepEqual(siteState(dir, url), { ready: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function freePort(): Promise<number> {
  const probe = createServer();
  return new Promise((resolve) => probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  }));
}

/** Starts fleet.ts until it is up (or exits), collecting its lines. */
async function startFleet(args: string[], upWithinMs: number) {
  const fleet = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => fleet.once('exit', (code) => resolve(code)));
  const up = new Promise<void>((resolve, reject) => {
    for (const stream of [fleet.stdout, fleet.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('Ctrl-C stops everything')) resolve();
      });
    }
    fleet.once('exit', () => reject(new Error(`the fleet exited: ${lines.slice(-5).join(' | ')}`)));
    setTimeout(() => reject(new Error(`not up within ${upWithinMs} ms: ${lines.slice(-5).join(' | ')}`)), upWithinMs).unref();
  });
  return { fleet, lines, exited, up };
}

test('from a fresh clone: npm run fleet builds its own site for its gateway (progress shown), serves it, and reuses it next time', { timeout: 420_000 }, async () => {
  const build = path.join(await mkdtemp(path.join(tmpdir(), 'asynclab-fleet-fresh-')), 'dist-fleet');
  await mkdir(build);
  const gatewayPort = await freePort();
  const runnerUrl = `ws://127.0.0.1:${gatewayPort}/__runner`;
  const args = ['--nodes', '1', '--gateway-port', String(gatewayPort), '--site-port', '0', '--build-dir', build];
  const first = await startFleet(args, 360_000);
  try {
    const started = Date.now();
    await first.up;
    const text = first.lines.join('\n');
    assert.match(text, new RegExp(`^fleet: building the site for ${runnerUrl.replace(/[./]/g, '\\$&')} into .*\\(no site in `, 'm'));
    for (const step of ['astro', 'pagefind', 'precompress']) assert.ok(first.lines.some((l) => l.startsWith(`[build ${step}] `)), `progress of ${step} shown`);
    const seconds = /^fleet: site built in (\d+) s$/m.exec(text)?.[1];
    assert.ok(seconds, 'the build says when it is done');
    console.log(`fleet: a fresh build and start took ${((Date.now() - started) / 1000).toFixed(0)} s (build ${seconds} s)`);
    // Built into its own folder, for this gateway, with the search index and compressed files.
    assert.equal(JSON.parse(await readFile(path.join(build, stampName), 'utf8')).runnerUrl, runnerUrl);
    assert.ok(existsSync(path.join(build, 'pagefind')), 'pagefind ran');
    const assets = await readdir(path.join(build, '_astro'));
    assert.ok(assets.some((f) => f.endsWith('.br')), 'precompressed');
    const scripts = await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(path.join(build, '_astro', f), 'utf8')));
    assert.ok(scripts.some((js) => js.includes(runnerUrl)), 'the gateway address is baked into the pages');
    const siteUrl = /site: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)![1]!;
    assert.equal((await fetch(`${siteUrl}en/`)).status, 200);
    // The site's origin is the one the gateway lets in.
    const page = new Page(runnerUrl, new URL(siteUrl).origin);
    await page.opened;
    page.run('one', scriptRun('print("built and running")\n'));
    assert.equal((await page.exit('one', 60_000)).reason, null);
    assert.equal(page.stdoutOf('one'), 'built and running\n');
    page.close();
    process.kill(-first.fleet.pid!, 'SIGINT');
    assert.equal(await first.exited, 0, first.lines.slice(-5).join('\n'));

    // The next start finds the site built for the same gateway: no build.
    const again = await startFleet(args, 60_000);
    try {
      await again.up;
      assert.ok(again.lines.some((l) => l.startsWith(`fleet: the site in `) && l.includes(`is built for ${runnerUrl}`)), again.lines.slice(0, 3).join('\n'));
      assert.ok(!again.lines.some((l) => l.startsWith('[build ')), 'nothing was built again');
      process.kill(-again.fleet.pid!, 'SIGINT');
      assert.equal(await again.exited, 0);
    } finally {
      if (again.fleet.exitCode === null) process.kill(-again.fleet.pid!, 'SIGKILL');
    }
  } finally {
    if (first.fleet.exitCode === null) process.kill(-first.fleet.pid!, 'SIGKILL');
    await rm(path.dirname(build), { recursive: true, force: true });
  }
});
