/**
 * Issue 15, item 8 (host paths): inside a sandbox /proc/self/mountinfo shows the host source
 * path of every bind mount. Found: the harness (/…/checkout/sandboxes/_harness) and the Node
 * binary (/…/checkout/node_modules/node/bin/node) were bound from the checkout, which names
 * the user's home and layout. Now they come from the runner's private work root.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/runner/runner.ts';
import { node, python, runToEnd } from './helpers.ts';

let runner: Runner;
before(async () => {
  runner = await Runner.start({ log: () => undefined });
});
after(async () => {
  await runner.close();
});

const checkout = path.resolve(import.meta.dirname, '../..');
/** Host paths that must not show: the checkout (as given and resolved), the home folder, the Node the runner runs under. */
const secrets = [...new Set([checkout, realpathSync(checkout), homedir(), process.env.HOME ?? '', path.dirname(realpathSync(process.execPath))])].filter(
  (p) => p.length > 1,
);

/** Whether `p` is a whole path (or a path's leading folders) in a mountinfo field: `/root` is not in `/x/root/usr`. */
function mentions(mountinfo: string, p: string): boolean {
  const escaped = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^| )${escaped}(/| |$)`, 'm').test(mountinfo);
}

test('the mount sources a sandbox sees name no checkout, home or Node path of the host (services included)', async (t) => {
  const r = await runToEnd(runner, python('print(open("/proc/self/mountinfo").read())\n', { needs: ['postgres', 'redis'] }));
  assert.equal(r.exit.reason, null, r.stderr);
  let mountinfo = r.stdout;
  const runtimeRoot = runner.env.system.root;
  if (runtimeRoot !== '/' && secrets.some((secret) => mentions(` ${runtimeRoot}`, secret))) {
    // Known and left (see the report of issue 15): a runtime built under ~/.cache (a runner that is
    // not root) shows there; hiding it takes a hard-link farm of its /usr (~2 s per start, measured).
    t.diagnostic(`the runtime root ${runtimeRoot} is under a home or checkout path and shows in mountinfo`);
    mountinfo = mountinfo.split('\n').filter((line) => !line.split(' ')[3]?.startsWith(runtimeRoot)).join('\n');
  }
  // It is the real table: the harness, the Node binary and a service socket are in it, from the work root or /tmp.
  const source = (mountPoint: string) => mountinfo.split('\n').find((l) => l.split(' ')[4] === mountPoint)?.split(' ')[3];
  assert.equal(source('/harness'), path.join(runner.workRoot, 'harness'), mountinfo);
  assert.equal(source('/opt/node/bin/node'), path.join(runner.workRoot, 'bin', 'node'), mountinfo);
  assert.match(source('/run/redis/redis-server.sock') ?? '', /^\/tmp\/asynclab-redis-/, mountinfo);
  for (const secret of secrets) assert.ok(!mentions(mountinfo, secret), `${secret} shows in the sandbox's mountinfo:\n${mountinfo}`);
});

test('Python and Node sandboxes still run from the copies', async () => {
  const py = await runToEnd(runner, python('import sys; print(sys.version_info[0])\n'));
  assert.equal(py.exit.reason, null, py.stderr);
  assert.equal(py.stdout.trim(), '3');
  const js = await runToEnd(runner, node('console.log(process.version, process.execPath)\n'));
  assert.equal(js.exit.reason, null, js.stderr);
  assert.equal(js.stdout.trim(), `${process.version} /opt/node/bin/node`);
});

test('the self-check of the test: a checkout path in a mountinfo line is found', () => {
  const line = `121 102 254:0 ${checkout}/sandboxes/_harness /harness ro,nosuid - ext4 /dev/vda rw`;
  assert.ok(mentions(line, checkout));
  assert.ok(!mentions('103 102 254:0 /var/cache/x/root/usr /usr ro - ext4 /dev/vda rw', '/root'));
});
