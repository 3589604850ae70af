/**
 * The fleet's metrics (src/fleet/metrics.ts): a registry of its own, the series the issue lists,
 * gauges read from the fleet at scrape time, labels that a stranger cannot multiply, and text
 * that parses as the Prometheus exposition format.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { createFleetMetrics, sandboxKindLabel } from '../../src/fleet/metrics.ts';
import { parsePrometheusText } from '../support/prometheus-text.ts';

const node = (id: string, running: number) => ({ id, capacity: 4, running, isolation: 'bwrap' as const, previewUrl: null });

test('the exposition has every fleet series, with values from what was recorded and what the fleet reports', async () => {
  const metrics = createFleetMetrics({ queueLength: async () => 7, nodes: async () => [node('node-a', 3), node('node-b', 1)] }, { role: 'gateway', instance: 'gw-1' });
  metrics.runStarted('server');
  metrics.runStarted('script');
  metrics.runFinished('server', null, 1_500);
  metrics.runFinished('script', 'timeout', 10_000);
  metrics.queueWait('server', 120);
  metrics.refused('concurrent-runs');
  metrics.refused('origin');
  metrics.connectionOpened();
  metrics.connectionOpened();
  metrics.connectionClosed();
  const { contentType, body } = await metrics.exposition();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheusText(body);
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('asynclab_runs_started_total', { kind: 'server', role: 'gateway', instance: 'gw-1' }), 1);
  assert.equal(value('asynclab_runs_finished_total', { kind: 'script', reason: 'timeout' }), 1);
  assert.equal(value('asynclab_runs_finished_total', { kind: 'server', reason: 'normal' }), 1);
  assert.equal(value('asynclab_run_duration_seconds_count', { kind: 'script' }), 1);
  assert.equal(value('asynclab_run_duration_seconds_sum', { kind: 'script' }), 10);
  assert.equal(value('asynclab_queue_wait_seconds_bucket', { kind: 'server', le: '0.25' }), 1);
  assert.equal(value('asynclab_queue_wait_seconds_bucket', { kind: 'server', le: '0.1' }), 0);
  assert.equal(value('asynclab_refusals_total', { kind: 'concurrent-runs' }), 1);
  assert.equal(value('asynclab_refusals_total', { kind: 'origin' }), 1);
  assert.equal(value('asynclab_gateway_open_connections'), 1);
  assert.equal(value('asynclab_queue_length'), 7);
  assert.equal(value('asynclab_nodes_alive'), 2);
  assert.equal(value('asynclab_node_active_runs', { node: 'node-a' }), 3);
  assert.equal(value('asynclab_node_active_runs', { node: 'node-b' }), 1);
  // Not the process-global registry: nothing of ours leaks into another library's /metrics.
  assert.ok(!(await globalRegistry.metrics()).includes('asynclab_'));
});

test('a fleet that cannot be read shows its gauges as unknown (NaN, no per-node series) and the scrape still succeeds', async () => {
  let up = true;
  const metrics = createFleetMetrics(
    {
      queueLength: async () => {
        if (!up) throw new Error('Redis away');
        return 3;
      },
      nodes: async () => {
        if (!up) throw new Error('Redis away');
        return [node('node-a', 2)];
      },
    },
    { role: 'gateway', instance: 'gw-2' },
  );
  assert.equal(parsePrometheusText((await metrics.exposition()).body).find((s) => s.name === 'asynclab_nodes_alive')?.value, 1);
  up = false;
  await new Promise((resolve) => setTimeout(resolve, 600)); // past the per-scrape cache of the heartbeats
  const samples = parsePrometheusText((await metrics.exposition()).body);
  for (const name of ['asynclab_queue_length', 'asynclab_nodes_alive']) assert.ok(Number.isNaN(samples.find((s) => s.name === name)?.value), name);
  assert.equal(samples.find((s) => s.name === 'asynclab_node_active_runs'), undefined);
});

test('labels stay in closed sets, and the open-connections gauge never goes below zero', async () => {
  const metrics = createFleetMetrics({ queueLength: async () => 0, nodes: async () => [node('evil"}\nnode', 1)] }, { role: 'node', instance: 'n 1' });
  metrics.refused('anything-else' as never);
  metrics.runFinished('other', 'not-a-code' as never, 5);
  metrics.connectionClosed();
  metrics.connectionClosed();
  const samples = parsePrometheusText((await metrics.exposition()).body);
  assert.ok(samples.some((s) => s.name === 'asynclab_refusals_total' && s.labels.kind === 'other'));
  assert.ok(samples.some((s) => s.name === 'asynclab_runs_finished_total' && s.labels.reason === 'other'));
  assert.ok(samples.some((s) => s.name === 'asynclab_node_active_runs' && s.labels.node === 'evil___node'));
  assert.equal(samples.find((s) => s.name === 'asynclab_gateway_open_connections')?.value, 0);
  assert.equal(sandboxKindLabel({ kind: 'server' }, true), 'preview');
  assert.equal(sandboxKindLabel({ kind: 'server' }, false), 'server');
  assert.equal(sandboxKindLabel({ kind: 'script' }, false), 'script');
  assert.equal(sandboxKindLabel('garbage', false), 'other');
});
