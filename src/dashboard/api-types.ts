// The dashboard's HTTP API as types: every JSON response and server-sent event, shared by the server (src/dashboard)
// and the browser app (web/dashboard). Plain data only, no imports, so both sides compile it. Extend, never rename.
//
// Routes (ids are opaque, URL-safe strings naming a folder under one of the roots):
//   GET  /api/roots                          → RootsResponse
//   GET  /api/runs                           → RunsResponse
//   GET  /api/runs/:id                       → RunDetail
//   GET  /api/runs/:id/metrics               → MetricsResponse
//   GET  /api/runs/:id/events?from=LINES     → text/event-stream: `event: rows` MetricsAppendEvent,
//                                              `event: reset` MetricsResetEvent, `event: status` RunStatusEvent
//   GET  /api/evals                          → EvalsResponse
//   GET  /api/evals/:id                      → EvalDetail
//   GET  /api/evals/:id/instances?task=ALIAS&wrong=1&offset=N&limit=N → InstancesResponse
//   GET  /api/compare?ids=A,B[,C…]&task=ALIAS → CompareResponse (task optional: every shared task)
//   GET  /api/models                         → ModelsResponse
//   GET  /api/quickstarts                    → QuickstartsResponse
//   POST /api/chat          ChatRequest      → text/event-stream: `data: ChatChunk` lines, then `data: [DONE]`;
//                                              a failure mid-stream is `event: error` with ChatErrorEvent
//   POST /api/chat/render   ChatRequest      → ChatRenderResponse
//   GET  /files/:id/RELPATH                  → the file, read-only (report.html of a quickstart folder and what it links)
//   GET  /, /assets/*                        → the bundled web app
// Every error response (4xx/5xx) has the body ApiErrorBody.

/** Any JSON value, as read from the files. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ApiErrorBody {
  error: { status: number; message: string };
}

/** Something wrong with a file that the dashboard reports instead of failing: which file, where, what. */
export interface Problem {
  /** Path relative to the root. */
  file: string;
  /** 1-based line, for JSONL files. */
  line?: number;
  message: string;
}

// ---- roots and the chat backend ----

export interface RootInfo {
  index: number;
  /** Absolute path as given on the command line (resolved). */
  path: string;
  exists: boolean;
}

export type ChatBackendKind = 'none' | 'openai' | 'model';

export interface ChatBackendInfo {
  kind: ChatBackendKind;
  /** The --openai base URL or the --model folder; null for 'none'. */
  target: string | null;
  /** The model name sent to / reported by the backend. */
  model: string | null;
  /** Whether POST /api/chat/render can render the chat template. */
  canRender: boolean;
}

export interface RootsResponse {
  roots: RootInfo[];
  chat: ChatBackendInfo;
  /** Package version of the server. */
  version: string;
}

// ---- training runs ----

export type RunKind = 'pretrain' | 'sft' | 'dpo' | 'rlvr' | 'distill' | 'unknown';
/** running: metrics written in the last `runningWindowSeconds`. */
export type RunStatus = 'running' | 'finished' | 'unknown';

export interface RunSummary {
  id: string;
  root: number;
  /** Folder relative to its root ('' for the root itself). */
  path: string;
  /** Display name (the folder's path, or its name when at the root). */
  name: string;
  kind: RunKind;
  status: RunStatus;
  /** Largest `step` in metrics.jsonl (null: no metrics). */
  lastStep: number | null;
  /** Steps the run was configured for, when the config says. */
  totalSteps: number | null;
  /** Last time metrics.jsonl or a checkpoint was written (ISO 8601). */
  modified: string | null;
  checkpoints: number;
  /** The quickstart folder this run belongs to, if any (its id). */
  quickstart: string | null;
  problems: Problem[];
}

export interface RunsResponse {
  runs: RunSummary[];
  /** A run counts as running when its metrics were written within this many seconds. */
  runningWindowSeconds: number;
}

export interface CheckpointInfo {
  /** step-NNNNNNN */
  name: string;
  step: number;
  /** Relative to the root. */
  path: string;
  /** Id of its model folder in GET /api/models (null when it has none). */
  modelId: string | null;
  /** Total bytes of its files. */
  bytes: number;
  modified: string;
}

/** train_state.json of the newest checkpoint, its envelope fields; `stage` is the stage's own state as written. */
export interface TrainStateInfo {
  checkpoint: string;
  kind: string;
  step: number;
  optimizerStep: number;
  version: string | null;
  commit: string | null;
  threads: number | null;
  stage: JsonValue;
}

/** Where a multi-stage run (pretrain → anneal) changes stage, from the metrics rows' `stage` field. */
export interface StageBoundary {
  stage: string;
  /** First step of the stage. */
  step: number;
  /** Tokens seen at that step (null when the rows carry no token count). */
  tokens: number | null;
}

export interface RunDetail {
  summary: RunSummary;
  /** The resolved config (config.resolved.json's `config`), null when there is none or it is unreadable. */
  config: { [key: string]: JsonValue } | null;
  /** Which file the config came from (relative to the root), or null. */
  configFile: string | null;
  /** Why config is null, when it is. */
  configProblem: Problem | null;
  /** Package version / git commit / threads the run recorded. */
  recorded: { version: string | null; commit: string | null; threads: number | null } | null;
  trainState: TrainStateInfo | null;
  checkpoints: CheckpointInfo[];
  stages: StageBoundary[];
  /** Other files of the folder worth opening (eval.json, config_changes, …), relative to the run folder. */
  files: string[];
}

/** One metrics.jsonl line as written (every stage writes `step`; the other keys depend on the stage). */
export type MetricRow = { [key: string]: JsonValue };

export interface MetricsLineProblem {
  /** 1-based line number in metrics.jsonl. */
  line: number;
  problem: string;
}

export interface MetricsResponse {
  id: string;
  rows: MetricRow[];
  /** Lines skipped (malformed or truncated); a half-written last line is not listed, it is still being written. */
  problems: MetricsLineProblem[];
  /** Complete lines read so far: pass as `from` to /events to receive only what comes after. */
  lines: number;
  /** Numeric keys found in the rows, in first-seen order (what can be charted). */
  numericKeys: string[];
}

/** New complete lines appended to metrics.jsonl. */
export interface MetricsAppendEvent {
  rows: MetricRow[];
  problems: MetricsLineProblem[];
  /** Complete lines read after this event. */
  lines: number;
}

/** metrics.jsonl was truncated, replaced (a resumed run rewrites it) or removed: here is its whole content again. */
export interface MetricsResetEvent {
  reason: 'truncated' | 'replaced' | 'removed';
  rows: MetricRow[];
  problems: MetricsLineProblem[];
  lines: number;
}

export interface RunStatusEvent {
  status: RunStatus;
  lastStep: number | null;
}

// ---- evaluations (oe-eval output folders) ----

export interface EvalTaskSummary {
  alias: string;
  /** The metric the task is ranked by (task_config.primary_metric, or the suite's aggregation). */
  primaryMetric: string | null;
  score: number | null;
  numInstances: number | null;
  /** A suite average over member tasks (no per-instance files). */
  isSuite: boolean;
  /** Whether task-NNN-ALIAS-predictions.jsonl exists (the instance browser and comparison need it). */
  hasPredictions: boolean;
}

export interface EvalSummary {
  id: string;
  root: number;
  path: string;
  name: string;
  /** model_config's model name or path, when given. */
  model: string | null;
  tasks: EvalTaskSummary[];
  modified: string | null;
  quickstart: string | null;
  problems: Problem[];
}

export interface EvalsResponse {
  evals: EvalSummary[];
}

export interface EvalTaskDetail extends EvalTaskSummary {
  metrics: { [key: string]: JsonValue };
  taskConfig: { [key: string]: JsonValue };
}

export interface EvalDetail {
  summary: EvalSummary;
  modelConfig: { [key: string]: JsonValue };
  tasks: EvalTaskDetail[];
}

/** One scored choice (a loglikelihood request) of an instance. */
export interface InstanceChoice {
  index: number;
  /** The request exactly as scored: the context (the whole prompt) and the continuation. */
  context: string;
  continuation: string;
  /** Sum of the continuation's token log-probs (null when not in predictions.jsonl). */
  logLikelihood: number | null;
  /** Whether the continuation is the greedy one. */
  isGreedy: boolean | null;
  /** The normalised scores oe-eval writes (sum_logits, logits_per_char, logits_per_token, …). */
  scores: { [key: string]: number };
  /** Present for unconditioned requests (acc_uncond), which score the continuation with a neutral context. */
  unconditioned?: boolean;
}

export interface Instance {
  docId: number;
  nativeId: string | number | null;
  /** The doc's query as the task read it (not the prompt: see choices[].context or generation.context). */
  query: string | null;
  requestType: string | null;
  choices: InstanceChoice[];
  /** Generative tasks: the prompt as sent and the generated text. */
  generation: { context: string; output: string | null } | null;
  /** The predicted choice index (MC) or answer (generative), null if unknown. */
  prediction: number | string | null;
  gold: number | string | null;
  correct: boolean | null;
  /** Per-instance metrics from predictions.jsonl. */
  metrics: { [key: string]: number };
}

export interface InstancesResponse {
  id: string;
  task: string;
  /** Instances matching the filter. */
  total: number;
  /** Instances of the task before filtering. */
  totalAll: number;
  offset: number;
  limit: number;
  instances: Instance[];
  problems: Problem[];
}

/** Second model vs first on the instances both evaluated (paired, exact two-sided sign test). */
export interface ComparePair {
  baseline: string;
  other: string;
  shared: number;
  /** Wrong for the baseline, right for the other. */
  fixed: number;
  /** Right for the baseline, wrong for the other. */
  broken: number;
  /** Accuracies on the shared instances. */
  before: number;
  after: number;
  pValue: number;
}

export interface CompareTask {
  task: string;
  primaryMetric: string | null;
  /** Score of each eval in `ids` order (null: the eval lacks the task). */
  scores: (number | null)[];
  /** Each later eval against the first; empty when instances are not available. */
  pairs: ComparePair[];
  problems: Problem[];
}

export interface CompareResponse {
  ids: string[];
  names: string[];
  tasks: CompareTask[];
}

// ---- models ----

export interface ModelMemory {
  /** Bytes of the weights in the stored dtype. */
  weightBytes: number;
  /** KV cache bytes per token of context (one sequence). */
  kvBytesPerToken: number;
  /** Weights plus a full-length KV cache for one sequence. */
  inferenceBytes: number;
}

export interface ModelSummary {
  id: string;
  root: number;
  path: string;
  name: string;
  /** config.json's model_type (olmo, olmo2, olmoe, …). */
  modelType: string | null;
  architecture: string | null;
  config: {
    hiddenSize: number | null;
    layers: number | null;
    heads: number | null;
    kvHeads: number | null;
    intermediateSize: number | null;
    vocabSize: number | null;
    maxPositionEmbeddings: number | null;
    experts: number | null;
  };
  parameters: number | null;
  dtype: string | null;
  /** Bytes of the folder's files. */
  bytes: number;
  memory: ModelMemory | null;
  hasTokenizer: boolean;
  /** The run whose checkpoint this is, if any. */
  runId: string | null;
  modified: string | null;
  problems: Problem[];
}

export interface ModelsResponse {
  models: ModelSummary[];
}

// ---- quickstart folders ----

export interface QuickstartSummary {
  id: string;
  root: number;
  path: string;
  name: string;
  /** URL of report.html under /files/. */
  reportUrl: string;
  /** report.json parsed (null when absent or unreadable: see problems). */
  report: JsonValue;
  runs: string[];
  evals: string[];
  modified: string | null;
  problems: Problem[];
}

export interface QuickstartsResponse {
  quickstarts: QuickstartSummary[];
}

// ---- chat ----

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  /** Alternatives per token (0–20, default 5). */
  top_logprobs?: number;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** OpenAI's chat.completion.chunk as the backend streams it. */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string };
    logprobs: { content: TokenLogprob[] | null } | null;
    finish_reason: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface ChatErrorEvent {
  message: string;
}

export interface ChatRenderResponse {
  available: boolean;
  /** The prompt text the model sees (with the generation prompt), when available. */
  text: string | null;
  /** Its token count, when known. */
  tokens: number | null;
  /** Why it is not available. */
  reason: string | null;
}
