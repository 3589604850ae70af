// Starts the fake upstream service (../upstream.mjs) when the sandbox needs it and sets
// process.env.UPSTREAM_URL before the lesson's code runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export async function startUpstreamIfNeeded() {
  if (!(process.env.ASYNCLAB_NEEDS ?? '').split(',').includes('upstream')) return undefined;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'upstream.mjs');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const match = /UPSTREAM_URL=(\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error('the fake upstream service did not start')));
  });
  process.env.UPSTREAM_URL = url;
  child.unref();
  child.stdout.unref?.();
  return child;
}
