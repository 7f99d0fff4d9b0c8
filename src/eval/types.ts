// Plain-data types of the OLMES evaluation core: rows, processed docs, requests and their instances,
// per-request model results. Everything here is JSON-serialisable, so requests can be written, cached and re-read.
import type { ChatMessage } from '../tokenizers/index.ts';

/** A dataset row as read from the Hugging Face files (Parquet/JSONL/JSON), before any processing. */
export type Row = Record<string, unknown>;

export type RequestType = 'loglikelihood' | 'loglikelihood_rolling' | 'generate_until';

/** log P(continuation | context). The continuation carries its leading space (OLMES convention). */
export interface LoglikelihoodRequest {
  type: 'loglikelihood';
  context: string;
  continuation: string;
}

/** log P(text) over the whole text, in windows of the model's max length (perplexity-style tasks). */
export interface LoglikelihoodRollingRequest {
  type: 'loglikelihood_rolling';
  context: string;
}

export interface GenerationKwargs {
  max_gen_toks: number;
  do_sample: boolean;
  temperature: number;
  top_p?: number;
  stop_sequences: string[];
  truncate_context?: boolean;
  [key: string]: unknown;
}

export interface GenerateUntilRequest {
  type: 'generate_until';
  context: string;
  generation_kwargs: GenerationKwargs;
  /** The conversation for chat backends (system prompt included), when the task has one; else `context` is sent as one user message. */
  messages?: ChatMessage[];
}

export type EvalRequest = LoglikelihoodRequest | LoglikelihoodRollingRequest | GenerateUntilRequest;

/**
 * One request with the ids linking it to its task instance (doc) and choice, as oe-eval's RequestInstance.
 * `idx` is the choice index; PMI's unconditioned requests have `uncond: true` and, as in oe-eval,
 * `doc_id + 1_000_000` when written out.
 */
export interface RequestInstance {
  request_type: RequestType;
  request: EvalRequest;
  task_name: string;
  /** position of the doc among the evaluated docs of its task (0-based, sample order) */
  doc_id: number;
  native_id: string | number;
  idx: number;
  label: number | string;
  uncond: boolean;
}

/**
 * A processed doc of any task: its position and id, what requests.jsonl shows of it (oe-eval's `doc` field: the
 * query and the reference answers), and the task's own fields under `extra`, which rescore gets back from the
 * predictions file.
 */
export interface Doc {
  /** index of the row in its split as loaded */
  index: number;
  native_id: string | number;
  /** the prompt text of the doc as requests.jsonl shows it */
  query: string;
  /** the reference answers as requests.jsonl shows them (generation tasks: the gold answers) */
  choices: string[];
  /** the index of the gold answer in `choices` */
  gold: number;
  /** the task's own fields: everything its scoring reads beyond the requests and their results */
  extra?: Record<string, unknown>;
}

/** A processed multiple-choice doc (oe-eval `_process_doc` output): the options the model's log-likelihoods rank. */
export interface McDoc extends Doc {
  /** the text before the target: doc_to_text */
  query: string;
  /** answer strings without the leading space (RC) or the letters (MC) */
  choices: string[];
  /** the index of the correct option */
  gold: number;
  /** per-format fields (e.g. WinoGrande's per-option contexts) */
  extra?: Record<string, unknown>;
}

/** What a backend returns for a loglikelihood request. */
export interface LoglikelihoodResult {
  /** sum of the continuation tokens' log-probabilities (natural log) */
  logprob: number;
  /** whether greedy decoding would produce exactly the continuation */
  isGreedy: boolean;
  /** number of continuation tokens after lm-eval's pair encoding (≥ 1 for a non-empty continuation) */
  numTokens: number;
  /** tokens of context plus continuation fed to the model (after truncation), if known */
  numTokensAll?: number;
}

export interface RollingResult {
  logprob: number;
  numTokens: number;
}

export type RequestResult = LoglikelihoodResult | RollingResult | string;

/** One doc's requests and their results, in the same order: what a task's scoreDoc receives. */
export type DocRequests = readonly RequestInstance[];
export type DocResults = readonly RequestResult[];
