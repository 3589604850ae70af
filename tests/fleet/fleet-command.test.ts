/**
 * `npm run fleet` itself: it brings up Redis, a gateway and the nodes, serves the site on its own
 * origin, runs a reader's sandbox, and on Ctrl-C stops every process it started; a failure is one
 * line and a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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

test('npm run fleet without a built site: one line saying why, and exit 2', async () => {
  const fleet = spawn(process.execPath, [script, '--site-dir', '/nonexistent-asynclab-site'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  fleet.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => fleet.once('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr, /^fleet: no built site in \/nonexistent-asynclab-site: run .*npm run build first/);
});
