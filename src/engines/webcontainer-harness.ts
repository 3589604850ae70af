/** The Node harness as text, for mounting into a WebContainer; loaded with the engine's first boot. */
import load from '../../sandboxes/_harness/node/load.mjs?raw';
import run from '../../sandboxes/_harness/node/run.mjs?raw';
import serve from '../../sandboxes/_harness/node/serve.mjs?raw';
import trace from '../../sandboxes/_harness/node/trace.mjs?raw';
import tracing from '../../sandboxes/_harness/node/tracing.mjs?raw';
import upstreamClient from '../../sandboxes/_harness/node/upstream-client.mjs?raw';
import upstream from '../../sandboxes/_harness/upstream.mjs?raw';

export const harness = {
  node: { 'load.mjs': load, 'run.mjs': run, 'serve.mjs': serve, 'trace.mjs': trace, 'tracing.mjs': tracing, 'upstream-client.mjs': upstreamClient },
  upstream,
};
