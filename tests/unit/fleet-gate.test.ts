/**
 * The fleet's small gates, without processes: the job data a node
 * will run, the node's preview address, and the fleet secret's minimum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJobData } from '../../src/fleet/job-data.ts';
import { parseListenAddress } from '../../src/fleet/node-preview.ts';
import { fleetSecretFromEnv } from '../../src/fleet/fleet-secret.ts';


test('job data: a node runs only what has the shape a gateway makes', () => {
  const good = { runId: 'gw.1.run-1', manifest: {}, files: { 'a.py': '' }, preview: false, client: 'c', gateway: 'gw', submittedAt: 1 };
  assert.equal(parseJobData(good).ok, true);
  for (const bad of [null, 'x', { ...good, runId: 'no-dots' }, { ...good, runId: 'a.b.c:d' }, { ...good, files: { 'a.py': 1 } }, { ...good, extra: 1 }, { ...good, preview: 'yes' }]) {
    assert.equal(parseJobData(bad).ok, false, JSON.stringify(bad));
  }
});

test('node preview address and fleet secret from the environment', () => {
  assert.deepEqual(parseListenAddress(undefined), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('10.0.0.5:7070'), { host: '10.0.0.5', port: 7070 });
  assert.deepEqual(parseListenAddress('[::1]:7070'), { host: '::1', port: 7070 });
  assert.throws(() => parseListenAddress('10.0.0.5'), /host:port/);
  assert.throws(() => parseListenAddress('h:99999'), /host:port/);
  assert.ok('problem' in fleetSecretFromEnv({}));
  assert.ok('problem' in fleetSecretFromEnv({ ASYNCLAB_FLEET_SECRET: 'short' }));
  assert.deepEqual(fleetSecretFromEnv({ ASYNCLAB_FLEET_SECRET: 's'.repeat(32) }), { secret: 's'.repeat(32) });
});
