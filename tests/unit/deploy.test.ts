/**
 * deploy/ holds what publishing the hosted fleet takes (README "Hosted mode"): container files,
 * a compose file, Kubernetes manifests, a _headers example. Nothing there can be run in CI, so
 * this test holds it to the code: every manifest parses; every environment variable the files
 * set is one the code reads (so a renamed or dropped variable is caught here, not in production);
 * the pieces refer to each other (selectors, the scaled Deployment, the queue's wait list) and
 * to programs that exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fleetPrefix, runQueueName } from '../../src/fleet/contract.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const deploy = path.join(root, 'deploy');

/**
 * The one list of what the deploy files may set, and who reads each. A variable here must be read
 * somewhere under src/ (checked below); a variable the files set must be here.
 */
const fleetVariables: Record<string, string> = {
  REDIS_URL: 'gateway and node: the fleet Redis',
  PORT: 'gateway: its listening port',
  ASYNCLAB_PUBLIC_ORIGINS: 'gateway: site origins allowed to run sandboxes',
  ASYNCLAB_TRUSTED_PROXIES: 'gateway: proxies whose X-Forwarded-For is believed',
  ASYNCLAB_FLEET_SECRET: 'gateway and node: the secret gateways show a node\'s preview endpoint',
  ASYNCLAB_CLIENT_SALT: 'gateway: salt of the client hashes (the same on every gateway)',
  ASYNCLAB_RUNS_PER_CLIENT: 'gateway: concurrent runs per client',
  ASYNCLAB_RUNS_PER_MINUTE: 'gateway: runs per minute per client',
  ASYNCLAB_CONNECTIONS_PER_CLIENT: 'gateway: open connections per client',
  ASYNCLAB_QUEUE_MAX: 'gateway: the fleet queue bound (busy beyond it)',
  ASYNCLAB_NODE_ID: 'node: its name in heartbeats and logs',
  ASYNCLAB_NODE_PREVIEW_ADDR: 'node: where its preview endpoint listens',
  ASYNCLAB_NODE_PREVIEW_URL: 'node: where gateways reach that endpoint',
  ASYNCLAB_RUNTIME_CACHE: 'node: where the runtime root was built (the image)',
  RUNNER_CONCURRENCY: 'node: runs at once (its pool size)',
  RUNNER_MEMORY_MIB: 'node: memory per run',
  RUNNER_CPU_SECONDS: 'node: CPU seconds per process',
};

/** Every .ts file under src/ (the programs the images run), as text. */
function sources(dir = path.join(root, 'src')): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(p));
    else if (entry.name.endsWith('.ts')) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

/** Read by the code: `env.X`, `env['X']`, or passed by name to a reader (`int('X', …)`, `positiveInt(env, 'X', …)`). */
function readByCode(name: string, code: string[]): boolean {
  const patterns = [new RegExp(`\\benv\\.${name}\\b`), new RegExp(`\\benv\\[\\s*['"\`]${name}['"\`]\\s*\\]`), new RegExp(`['"\`]${name}['"\`]`)];
  return code.some((text) => patterns.some((p) => p.test(text)));
}

function files(dir: string, test: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(p, test));
    else if (test(entry.name)) out.push(p);
  }
  return out;
}

/** A parsed manifest: untyped YAML, walked by the shape each kind documents. */
type Doc = Record<string, any>;

/** Every YAML document of deploy/, parsed with merge keys (compose uses them); a parse error fails here. */
function yamlDocuments(): Array<{ file: string; doc: Doc }> {
  const out: Array<{ file: string; doc: Doc }> = [];
  for (const file of files(deploy, (n) => /\.ya?ml$/.test(n))) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'), { merge: true })) {
      assert.deepEqual(document.errors.map((e) => e.message), [], `${path.relative(root, file)} parses`);
      const doc = document.toJS() as Doc | null;
      if (doc) out.push({ file: path.relative(root, file), doc });
    }
  }
  return out;
}

interface SetVariable {
  where: string;
  name: string;
  value: string | undefined;
}

/** The containers of a Kubernetes workload. */
const containersOf = (doc: Doc): Doc[] => [...(doc.spec?.template?.spec?.containers ?? []), ...(doc.spec?.template?.spec?.initContainers ?? [])];

/**
 * Every variable the deploy files set: compose `environment`, Kubernetes container `env`,
 * Containerfile `ENV`. A Kubernetes variable that only feeds another value of the same container
 * (`$(POD_IP)` in a URL, `$(REDIS_PASSWORD)` in args) is Kubernetes' to read, not the code's.
 */
function variablesSet(): SetVariable[] {
  const out: SetVariable[] = [];
  for (const { file, doc } of yamlDocuments()) {
    if (doc.services) {
      for (const [service, spec] of Object.entries<Doc>(doc.services)) {
        const env = spec.environment ?? {};
        const entries: Array<[string, unknown]> = Array.isArray(env) ? env.map((e: string) => [e.split('=')[0]!, e.split('=').slice(1).join('=')]) : Object.entries(env);
        for (const [name, value] of entries) out.push({ where: `${file} ${service}`, name, value: value === null ? undefined : String(value) });
      }
    }
    for (const container of containersOf(doc)) {
      const env: Doc[] = container.env ?? [];
      const expansions = JSON.stringify([container.args ?? [], container.command ?? [], env.map((e) => e.value ?? '')]);
      for (const e of env) {
        if (expansions.includes(`$(${e.name})`)) continue;
        out.push({ where: `${file} ${doc.metadata?.name}/${container.name}`, name: e.name, value: e.value });
      }
    }
  }
  for (const file of files(deploy, (n) => n.endsWith('Containerfile'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^ENV\s+([A-Z0-9_]+)=(\S*)/gm)) out.push({ where: path.relative(root, file), name: match[1]!, value: match[2] });
  }
  return out;
}

test('every YAML file in deploy/ parses, and each Kubernetes document names its kind and itself', () => {
  const docs = yamlDocuments();
  assert.ok(docs.length >= 8, `found ${docs.length} documents`);
  for (const { file, doc } of docs) {
    if (doc.services) continue; // the compose file
    assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, `${file}: apiVersion, kind and metadata.name`);
  }
});

test('every environment variable the deploy files set is listed here and read by the code', () => {
  const set = variablesSet();
  assert.ok(set.length > 20, 'the files do set variables');
  const unlisted = set.filter((v) => !(v.name in fleetVariables)).map((v) => `${v.name} (${v.where})`);
  assert.deepEqual(unlisted, [], 'set by deploy/ but not in this test\'s list: add it with who reads it, or drop it');
  const code = sources();
  const unread = Object.keys(fleetVariables).filter((name) => !readByCode(name, code));
  assert.deepEqual(unread, [], 'listed, but no code under src/ reads them');
});

test('the reader of variables finds the ways the code reads them, and nothing else', () => {
  assert.ok(readByCode('PORT', ['const port = Number(process.env.PORT ?? 4321);']));
  assert.ok(readByCode('RUNNER_QUEUE', ["queue: int('RUNNER_QUEUE', base.queue, 1000),"]));
  assert.ok(readByCode('X_Y', ['env["X_Y"]']));
  assert.ok(!readByCode('REDIS_URL', ["fail('REDIS_URL is not set')"]));
  assert.ok(!readByCode('PORT', ['env.PORTS']));
});

test('gateways and nodes get what they cannot start without, in compose and in Kubernetes', () => {
  const set = variablesSet();
  const gatewayNeeds = ['REDIS_URL', 'ASYNCLAB_PUBLIC_ORIGINS', 'ASYNCLAB_FLEET_SECRET', 'ASYNCLAB_CLIENT_SALT'];
  const nodeNeeds = ['REDIS_URL', 'ASYNCLAB_FLEET_SECRET', 'ASYNCLAB_NODE_PREVIEW_ADDR', 'ASYNCLAB_NODE_PREVIEW_URL', 'ASYNCLAB_NODE_ID'];
  const names = (where: RegExp) => new Set(set.filter((v) => where.test(v.where)).map((v) => v.name));
  for (const [where, needs] of [
    [/compose\.yaml gateway$/, gatewayNeeds],
    [/gateway\.yaml asynclab-gateway\/gateway$/, gatewayNeeds],
    [/compose\.yaml node-1$/, nodeNeeds],
    [/compose\.yaml node-3$/, nodeNeeds],
    [/node\.yaml asynclab-node\/node$/, nodeNeeds],
  ] as const) {
    const have = names(where);
    assert.deepEqual(needs.filter((n) => !have.has(n)), [], `${where} sets ${needs.join(', ')}`);
  }
  // Each compose node has its own identity and preview address.
  const ids = set.filter((v) => v.name === 'ASYNCLAB_NODE_ID' && /compose/.test(v.where)).map((v) => v.value);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.length >= 2, 'several nodes');
});

test('Kubernetes: Services and selectors reach their pods; KEDA scales the node Deployment on BullMQ\'s wait list', () => {
  const docs = yamlDocuments().map((d) => d.doc);
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  for (const d of deployments) {
    const labels = d.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) assert.equal(labels[k], v, `${d.metadata.name}: selector matches its pods`);
  }
  for (const service of docs.filter((d) => d.kind === 'Service')) {
    const target = deployments.find((d) => Object.entries(service.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
    assert.ok(target, `Service ${service.metadata.name} selects a Deployment's pods`);
    for (const port of service.spec.ports) {
      const named = containersOf(target).flatMap((c) => c.ports ?? []).some((p: Doc) => p.name === port.targetPort || p.containerPort === port.targetPort);
      assert.ok(named, `Service ${service.metadata.name} targets a port its pods expose`);
    }
  }
  const scaled = docs.find((d) => d.kind === 'ScaledObject');
  assert.ok(scaled, 'a KEDA ScaledObject');
  const node = deployments.find((d) => d.metadata.name === scaled.spec.scaleTargetRef.name);
  assert.ok(node && containersOf(node).some((c) => JSON.stringify(c.env).includes('ASYNCLAB_NODE_PREVIEW_ADDR')), 'it scales the node Deployment');
  const trigger = scaled.spec.triggers.find((t: Doc) => t.type === 'redis');
  assert.equal(trigger?.metadata.listName, `${fleetPrefix}:${runQueueName}:wait`, 'the list BullMQ keeps waiting jobs in');
  assert.ok(Number(trigger.metadata.listLength) >= 1);
  assert.ok(scaled.spec.minReplicaCount >= 1, 'never scaled to zero: a first run must not wait for a node to boot');
  // A node drains on SIGTERM: the grace period covers the longest run (a live preview's 120 s).
  assert.ok(node.spec.template.spec.terminationGracePeriodSeconds >= 120);
});

test('the container files build the runtime root with the same tooling as npm start, and start programs that exist', () => {
  const node = readFileSync(path.join(deploy, 'node.Containerfile'), 'utf8');
  const gateway = readFileSync(path.join(deploy, 'gateway.Containerfile'), 'utf8');
  assert.match(node, /node_modules\/\.bin\/node src\/runtime\/build\.ts/, 'the runtime root is built by src/runtime/build.ts');
  assert.ok(existsSync(path.join(root, 'src/runtime/build.ts')));
  assert.match(node, /apt-get install[^\n]*\bbubblewrap\b/);
  for (const text of [node, gateway]) {
    assert.match(text, /\bnpm ci\b/, 'npm ci: exactly the lock file, Node 24 from the node package');
    assert.match(text, /grep -q '\^v24\\\.'/, 'the build checks it got Node 24');
    const cmd = /^CMD \[(.+)\]$/m.exec(text)?.[1];
    assert.ok(cmd, 'a CMD');
    const argv = JSON.parse(`[${cmd}]`) as string[];
    assert.equal(argv[0], 'node_modules/.bin/node');
    assert.ok(existsSync(path.join(root, argv[1]!)), `${argv[1]} exists`);
  }
});

test('the static host example: long cache only for hashed assets, and a CSP that lets the page reach the gateway', () => {
  const text = readFileSync(path.join(deploy, 'static', '_headers'), 'utf8');
  const rules = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) rules.set(line.trim(), (current = []));
    else current?.push(line.trim());
  }
  const immutable = [...rules].filter(([, headers]) => headers.some((h) => /immutable/.test(h))).map(([p]) => p);
  assert.deepEqual(immutable.sort(), ['/_astro/*', '/_pyodide/*']);
  const csp = rules.get('/*')?.find((h) => h.startsWith('Content-Security-Policy:'));
  assert.ok(csp);
  const connect = /connect-src ([^;]+)/.exec(csp)![1]!.split(/\s+/);
  assert.ok(connect.includes('wss://runner.example.org') && connect.includes('https://runner.example.org'), 'the gateway: WebSocket and previews');
  // Everything public/_headers sends for cross-origin isolation is kept.
  for (const header of readFileSync(path.join(root, 'public', '_headers'), 'utf8').split('\n').filter((l) => /^\s+Cross-Origin/.test(l))) {
    assert.ok(rules.get('/*')!.includes(header.trim()), header.trim());
  }
});
