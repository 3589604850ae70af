/**
 * Runs inside a fresh host, against the `npm start` a newcomer just ran there: reads the
 * runner token from a served lesson page, as the page's own script does, then runs each
 * named sandbox through the runner's WebSocket protocol and checks its claim on the trace
 * it produced. Prints one line per sandbox; exit 0 only when every claim holds.
 *
 *   node tests/fresh/probe.ts <port> <lesson path> <sandbox id>…
 */
import path from 'node:path';
import WebSocket from 'ws';
import { runnerMetaName } from '../../src/protocol/runner-meta.ts';
import { loadSandbox } from '../../src/sandbox/load-sandbox.ts';
import type { ServerMessage } from '../../src/protocol/messages.ts';
import { checkExpect, explainFailures } from '../../src/timeline/expect.ts';
import { buildModel } from '../../src/timeline/model.ts';
import { summarize } from '../../src/timeline/summary.ts';

const [portArg, lessonPath, ...ids] = process.argv.slice(2);
const origin = `http://127.0.0.1:${portArg}`;
const projectRoot = path.resolve(import.meta.dirname, '..', '..');

async function token(): Promise<string> {
  const response = await fetch(`${origin}${lessonPath}`);
  const html = await response.text();
  if (!response.ok) throw new Error(`GET ${lessonPath} answered ${response.status}`);
  const found = new RegExp(`<meta name="${runnerMetaName}" content="([^"]+)"`).exec(html);
  if (!found) throw new Error(`${lessonPath} carries no runner token: is the runner off? (${/<meta name="asynclab-runner[^>]*>/.exec(html)?.[0] ?? 'no meta'})`);
  return found[1]!;
}

interface Outcome {
  code: number | null;
  stdout: string;
  trace: string[];
  reason: string | null;
  python: string;
}

function run(socket: WebSocket, runId: string, manifest: unknown, files: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const outcome: Outcome = { code: null, stdout: '', trace: [], reason: null, python: '' };
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (!('runId' in message) || message.runId !== runId) return;
      if (message.type === 'stdout') outcome.stdout += message.data;
      if (message.type === 'trace') outcome.trace.push(...message.data.split('\n'));
      if (message.type === 'exit') {
        socket.off('message', onMessage);
        outcome.code = message.code;
        outcome.reason = message.reason ? `${message.reason.code}: ${message.reason.message}` : null;
        resolve(outcome);
      }
    };
    socket.on('message', onMessage);
    socket.once('close', () => reject(new Error('the runner closed the connection')));
    socket.send(JSON.stringify({ type: 'run', runId, manifest, files }));
  });
}

let failed = 0;
try {
  const socket = new WebSocket(`ws://127.0.0.1:${portArg}/__runner?token=${await token()}`, { origin });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  for (const id of ids) {
    const sandbox = await loadSandbox(path.join(projectRoot, 'sandboxes'), id, projectRoot);
    const started = performance.now();
    const outcome = await run(socket, `fresh-${id}`.slice(0, 64), sandbox.manifest, sandbox.files);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const model = buildModel(outcome.trace);
    const failures = [outcome.reason ?? '', explainFailures(checkExpect(sandbox.manifest.expect ?? {}, model, { exitCode: outcome.code, stdout: outcome.stdout }))]
      .filter(Boolean)
      .join('; ');
    const summary = summarize(model);
    const versions = /Python \d+\.\d+\.\d+|FastAPI \d+\.\d+\.\d+/g;
    const reported = [...new Set(outcome.stdout.match(versions) ?? [])].join(', ');
    if (failures) {
      failed += 1;
      console.log(`✗ ${id} (${seconds} s): ${failures}\n${outcome.stdout.slice(-1500)}`);
    } else {
      console.log(`✓ ${id} (${seconds} s): claim holds — wall ${Math.round(summary.wallMs)} ms${reported ? `; the sandbox reported ${reported}` : ''}`);
    }
  }
  socket.close();
} catch (err) {
  console.log(`✗ probe: ${(err as Error).message}`);
  failed += 1;
}
process.exit(failed ? 1 : 0);
