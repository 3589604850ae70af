import { z } from 'astro/zod';
import { isSafeRelativePath } from './manifest-rules.ts';

export { defaultTimeoutMs, isSafeRelativePath } from './manifest-rules.ts';

/**
 * `sandboxes/<id>/sandbox.json`: one runnable example (DESIGN §3). Shared by the
 * runner (what to execute and how) and the site (what to show, which engine can run it).
 */
export const sandboxLanguages = ['python', 'node'] as const;
export const sandboxKinds = ['script', 'server'] as const;
export const sandboxNeeds = ['threads', 'processes', 'sqlite', 'postgres', 'redis', 'upstream'] as const;
export const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const sandboxIdPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A text in both languages, each at most `max` characters (a title: 120). */
export const localizedText = (max: number) => z.object({ en: z.string().trim().min(1).max(max), zh: z.string().trim().min(1).max(max) }).strict();
export const localized = localizedText(120);

/** An SSE client: reads the `text/event-stream` answer event by event, then disconnects (or sees the server end it). */
export const sseClient = z
  .object({
    /** Disconnect after this many events. */
    events: z.number().int().min(1).max(1000).optional(),
    /** Disconnect after this long, counted from the request. */
    forMs: z.number().int().min(1).max(30_000).optional(),
  })
  .strict()
  .refine((c) => c.events !== undefined || c.forMs !== undefined, 'needs events or forMs (when to disconnect)');

/** A WebSocket client: connects to the path, sends its messages, receives until it has enough or its time is up. */
export const webSocketClient = z
  .object({
    /** Messages to send, in order: a string goes as text, anything else as JSON text. */
    send: z.array(z.unknown()).max(100).default([]),
    /** Wait this long after connecting before the first message. */
    sendAfterMs: z.number().int().min(0).max(20_000).default(0),
    /** Then one message every N ms (default: all at once). */
    sendEveryMs: z.number().int().min(1).max(10_000).optional(),
    /** Close after receiving this many messages. */
    messages: z.number().int().min(1).max(1000).optional(),
    /** Close after this long, counted from the connection attempt. */
    forMs: z.number().int().min(1).max(30_000).optional(),
  })
  .strict()
  .refine((c) => c.messages !== undefined || c.forMs !== undefined, 'needs messages or forMs (when to close)');

/**
 * One group of clients the load driver starts once the server is ready. Groups start together.
 * A plain step sends HTTP requests; with `sse` each client reads a stream of server-sent events,
 * with `websocket` each client holds a WebSocket (both: Python server sandboxes).
 */
export const loadStep = z
  .object({
    method: z.enum(httpMethods).default('GET'),
    /** Path and query, e.g. `/items/3?q=x`. */
    path: z.string().regex(/^\/[^\s]*$/, 'must start with / and contain no spaces'),
    /** How many requests (or clients) this group starts. */
    count: z.number().int().min(1).max(200).default(1),
    /** Fire one request every N ms (a steady probe); without it the whole group fires at once. */
    everyMs: z.number().int().min(1).max(10_000).optional(),
    /** Wait this long after ready before the group's first request. */
    delayMs: z.number().int().min(0).max(20_000).default(0),
    /** JSON body for POST/PUT/PATCH. */
    json: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    /** Each client of the group reads server-sent events (a GET), then disconnects. */
    sse: sseClient.optional(),
    /** Each client of the group is a WebSocket connection to `path`. */
    websocket: webSocketClient.optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    if (step.sse && step.websocket) {
      ctx.addIssue({ code: 'custom', path: ['websocket'], message: 'a step is an SSE client or a WebSocket client, not both' });
    }
    if ((step.sse || step.websocket) && step.method !== 'GET') {
      ctx.addIssue({ code: 'custom', path: ['method'], message: 'SSE and WebSocket clients start with a GET' });
    }
    if (step.websocket && step.json !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['json'], message: 'a WebSocket client sends `websocket.send`, not a body' });
    }
  });

/** A path the preview panels start from: the app's own path and query, e.g. `/items/3?q=x`. */
const previewPath = z
  .string()
  .max(200)
  .regex(/^\/[^\s#\\]*$/, 'must start with / and contain no spaces, # or backslashes')
  .refine((p) => !p.split('?')[0]!.split('/').some((part) => part === '..' || part === '.'), 'no . or .. segments');

/**
 * Live preview (local runner only): which panels the page shows while the server runs
 * (README "Live preview"). `requests`: paths offered in the request panel (the reader may
 * type any other); `sse`: the path the SSE viewer connects to; `websocket`: the path the
 * two chat clients connect to, and optionally a first message to offer (e.g. JSON the app expects).
 */
export const sandboxPreview = z
  .object({
    requests: z.array(previewPath).min(1).max(10).optional(),
    sse: previewPath.optional(),
    websocket: z.union([previewPath, z.object({ path: previewPath, message: z.string().max(500).optional() }).strict()]).optional(),
  })
  .strict()
  .refine((p) => p.requests || p.sse || p.websocket, 'names at least one panel: requests, sse or websocket');

const range = z
  .object({ min: z.number().nonnegative().optional(), max: z.number().nonnegative().optional() })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'needs min or max');

export const laneKinds = ['request', 'handler', 'task', 'loop', 'thread', 'process'] as const;

/** Which spans a rule is about: a lane kind, and optionally only spans whose name contains `match` (e.g. a path). */
const laneRule = z.object({ lane: z.enum(laneKinds), match: z.string().min(1).optional() }).strict();
const peakRule = laneRule
  .extend({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'needs min or max');
const concurrentRule = laneRule.extend({ min: z.number().int().min(2).optional() }).strict();
const durationRule = laneRule
  .extend({ min: z.number().nonnegative().optional(), max: z.number().nonnegative().optional() })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'needs min or max');
const oneOrMany = <T extends z.ZodType>(rule: T) => z.union([rule, z.array(rule).min(1)]);

/**
 * Relative rules: claims about CPU-bound work compare quantities of the same run, so they
 * hold on a fast CPU, a slow one and a busy one alike (DESIGN §3). A ratio's bounds are
 * plain numbers (2 means 2×), a share's are 0..1.
 */
export const spanStats = ['longest', 'shortest', 'mean', 'sum', 'extent'] as const;
/** One number from a group of spans: the longest/shortest/mean duration, their sum, or their extent (first start to last end). */
const spanQuantity = laneRule.extend({ of: z.enum(spanStats) }).strict();
const ratioBounds = {
  min: z.number().positive().optional(),
  max: z.number().positive().optional(),
};
const needsBound = (r: { min?: number | undefined; max?: number | undefined }) => r.min !== undefined || r.max !== undefined;
const boundsInOrder = (r: { min?: number | undefined; max?: number | undefined }) => r.min === undefined || r.max === undefined || r.min <= r.max;
/** The run's wall time ÷ a quantity of a group of spans: `{ lane: 'thread', of: 'sum', max: 0.35 }`. */
const wallVsSpansRule = spanQuantity
  .extend(ratioBounds)
  .strict()
  .refine(needsBound, 'needs min or max')
  .refine(boundsInOrder, 'min is larger than max');
/** A quantity of one group of spans ÷ a quantity of another: `{ lane, match, of, vs: { lane, match, of }, min }`. */
const spanRatioRule = spanQuantity
  .extend({ vs: spanQuantity, ...ratioBounds })
  .strict()
  .refine(needsBound, 'needs min or max')
  .refine(boundsInOrder, 'min is larger than max');
/** The time the event loop was blocked ÷ the wall time. */
const shareRule = z
  .object({ min: z.number().min(0).optional(), max: z.number().min(0).optional() })
  .strict()
  .refine(needsBound, 'needs min or max')
  .refine(boundsInOrder, 'min is larger than max');

/**
 * The timing claim a lesson makes, checked against the run's trace in CI (src/timeline/expect.ts).
 * `wallMs` is the span of the run's activity (its requests, else its tasks); `serial` means
 * the matching spans never overlapped; `concurrent` that at least `min` (default 2) did;
 * `spanMs` that every matching span lasted between `min` and `max` ms (e.g. the POSTs
 * were answered fast while the jobs they queued ran long).
 *
 * Relative rules (for CPU-bound work, whose milliseconds depend on the machine):
 * `wallVsSpans` bounds the wall time as a multiple of a quantity of matching spans;
 * `spanRatio` bounds one group's quantity as a multiple of another's; `loopBlockedShare`
 * bounds the share of the wall time the event loop was blocked (0..1; with several
 * worker loops their sum, which can pass 1).
 */
export const sandboxExpect = z
  .object({
    wallMs: range.optional(),
    loopBlockedMs: range.optional(),
    peakConcurrency: oneOrMany(peakRule).optional(),
    serial: oneOrMany(laneRule).optional(),
    concurrent: oneOrMany(concurrentRule).optional(),
    spanMs: oneOrMany(durationRule).optional(),
    wallVsSpans: oneOrMany(wallVsSpansRule).optional(),
    spanRatio: oneOrMany(spanRatioRule).optional(),
    loopBlockedShare: shareRule.optional(),
    exitCode: z.number().int().optional(),
    stdoutIncludes: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const sandboxManifest = z
  .object({
    id: z.string().regex(sandboxIdPattern, 'lowercase words joined by dashes'),
    title: localized,
    language: z.enum(sandboxLanguages),
    kind: z.enum(sandboxKinds),
    /** Script: the file to run (`main.py`). Python server: `module:attribute` (`main:app`). Node server: a module exporting an http.Server (`server.mjs`). */
    entry: z.string().min(1).max(200),
    needs: z.array(z.enum(sandboxNeeds)).default([]),
    load: z.array(loadStep).min(1).max(20).optional(),
    expect: sandboxExpect.optional(),
    timeoutMs: z.number().int().min(1_000).max(60_000).optional(),
    /** Panels to talk to the running server through the local runner (server sandboxes only). */
    preview: sandboxPreview.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.kind === 'server' && !m.load) {
      ctx.addIssue({ code: 'custom', path: ['load'], message: 'a server sandbox needs a load (the requests to send it)' });
    }
    if (m.kind === 'script' && m.preview) {
      ctx.addIssue({ code: 'custom', path: ['preview'], message: 'only server sandboxes have a live preview' });
    }
    if (m.kind === 'script' && m.load) {
      ctx.addIssue({ code: 'custom', path: ['load'], message: 'only server sandboxes take a load' });
    }
    const pythonApp = /^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/;
    if (m.kind === 'server' && m.language === 'python' && !pythonApp.test(m.entry)) {
      ctx.addIssue({ code: 'custom', path: ['entry'], message: 'a Python server entry is `module:app`, e.g. `main:app`' });
    }
    if (m.language === 'node') {
      m.load?.forEach((step, i) => {
        if (step.sse || step.websocket) {
          ctx.addIssue({ code: 'custom', path: ['load', i, step.sse ? 'sse' : 'websocket'], message: 'SSE and WebSocket clients are for Python server sandboxes (the Node load driver sends plain requests)' });
        }
      });
    }
    if ((m.kind === 'script' || m.language === 'node') && !isSafeRelativePath(m.entry)) {
      ctx.addIssue({ code: 'custom', path: ['entry'], message: 'must be a file path inside the sandbox, e.g. `main.py`' });
    }
  });

export type SandboxManifest = z.infer<typeof sandboxManifest>;
export type SandboxManifestInput = z.input<typeof sandboxManifest>;
export type LoadStep = z.infer<typeof loadStep>;
export type SandboxPreview = z.infer<typeof sandboxPreview>;
export type SseClient = z.infer<typeof sseClient>;
export type WebSocketClient = z.infer<typeof webSocketClient>;
export type SandboxExpect = z.infer<typeof sandboxExpect>;
export type LaneRule = z.infer<typeof laneRule>;
export type PeakRule = z.infer<typeof peakRule>;
export type ConcurrentRule = z.infer<typeof concurrentRule>;
export type DurationRule = z.infer<typeof durationRule>;
export type SpanStat = (typeof spanStats)[number];
export type SpanQuantity = z.infer<typeof spanQuantity>;
export type WallVsSpansRule = z.infer<typeof wallVsSpansRule>;
export type SpanRatioRule = z.infer<typeof spanRatioRule>;
export type ShareRule = z.infer<typeof shareRule>;

/** Files of a sandbox by relative path (`main.py`, `app/routes.py`). */
export type SandboxFiles = Record<string, string>;


/** Which file holds a sandbox's entry: `main:app` → `main.py`. */
export function entryFile(m: Pick<SandboxManifest, 'kind' | 'language' | 'entry'>): string {
  if (m.kind === 'server' && m.language === 'python') return `${m.entry.split(':')[0]!.replaceAll('.', '/')}.py`;
  return m.entry;
}
