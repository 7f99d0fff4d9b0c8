// `olmo eval`: OLMES evaluation of an olmo-ts checkpoint in-process or of a model behind an OpenAI-compatible
// server, writing oe-eval's output files; also --list-tasks, --dry-run (requests files only) and --rescore.
import { existsSync, statSync } from 'node:fs';
import type { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import {
  ChainSource,
  CRITIC_MODES,
  HfCacheSource,
  HubDatasetSource,
  LocalBackend,
  LocalHfFolderSource,
  OpenAIBackend,
  OpenAIPool,
  TaskIdError,
  criticModeIds,
  dolma2Tokenizer,
  evaluate,
  gitCommit,
  listTaskIds,
  loadTokenizer,
  packageVersion,
  planEvaluation,
  rescore,
  resultsTable,
  runFolders,
  type ConfigOverrides,
  type DatasetSource,
  type EvalBackend as Backend,
  type EvaluatePlan,
  type LogprobsMode,
  type Tokenizer,
} from '../index.ts';
import { numberOption, parseCommandArgs, UsageError, type Command, optionTable } from './command.ts';
import { EvalProgressPrinter } from './eval-progress.ts';
import {
  loadInferenceModel,
  readQuantize,
  requireModelDir,
  resolveModelArg,
  resolveTokenizer,
} from './model-loading.ts';

const USAGE = `olmo eval --model DIR | --openai URL --model-name NAME --tasks IDS --output DIR [options]
olmo eval ... --tasks digital_socrates_critic,delta_rot_judge --critic-model DIR | --critic-openai URL --critic-model-name NAME
olmo eval --list-tasks
olmo eval --tasks IDS --output DIR --dry-run [--data-dir DIR]
olmo eval --rescore DIR

  --model DIR|ID        checkpoint folder or hub id owner/name[@revision], evaluated in-process
  --openai URL          an OpenAI-compatible server (vLLM, SGLang, llama.cpp, olmo serve), e.g. http://127.0.0.1:8000/v1;
                        repeat it for replicas of one model: requests are spread over them (--concurrency each) and
                        move to the others when one stops answering
  --model-name NAME     the model name the server serves (required with --openai)
  --tasks IDS           comma-separated task ids name[:mc|:rc][::regime], e.g. arc_easy::olmes,mmlu:mc::olmes,
                        core_9mcqa::olmes, synth_world:rc (the synthetic corpus), local_mc:NAME (see below)
  --output DIR          where the oe-eval files and the request cache go; a rerun resumes from the cache
  --data-dir DIR        datasets in the Hugging Face layout <DIR>/<owner>/<name>/… (also <DIR>/eval/<name>, so
                        the folder written by \`olmo data synth\` works as is); the hub cache is tried after it,
                        then the hub (HF_ENDPOINT, HF_TOKEN), downloading into the cache, unless HF_HUB_OFFLINE=1
  --limit N             at most N instances per task (a fraction below 1: that share)
  --num-shots N         few-shot examples per prompt (default: the task's, 5 for OLMES)
  --batch-size N        requests per backend call, each call's results cached together (default 32)
  --model-batch-size N  in-process: context groups per scoring step (default 1; results never depend on it)
  --quantize int8       in-process: weights as q8_0 (int8 in 32-element blocks with f16 scales), quantised at load
  --max-length N        context length, inputs cut from the left (default min(2048, the model's); --openai: 2048)
  --tokenizer DIR|dolma2  in-process: when the checkpoint has no tokenizer.json; --openai: tokenise locally
                        (exact lm-eval token counts, token-id prompts) instead of using the server's counts
  --concurrency N       --openai: HTTP requests in flight per endpoint (default 8)
  --logprobs MODE       --openai: echo (completions with echo+logprobs, default) or prompt_logprobs (vLLM)
  --chat                --openai: generate through /v1/chat/completions instead of /v1/completions
  --api-key-env NAME    --openai: read the API key from this variable (default OPENAI_API_KEY)
  --timeout S           --openai: seconds per HTTP request (default 300)
  --retries N           --openai: retries on 429/5xx/network errors, exponential backoff (default 5)
  --list-tasks          print every known task id
  --dry-run             build and write every task's requests.jsonl (contexts and continuations), no model
  --rescore DIR         recompute every metric of a finished run from its saved records (predictions.jsonl keeps
                        each doc and each request's raw result), no model and no data; stage folders of the
                        critic modes below DIR are rescored too

Critic modes: a second model, through any backend, judges what the evaluated model wrote. Task ids:
  digital_socrates_critic  Digital Socrates critic mode: the model answers and explains DSCB questions, the critic
                        critiques each explanation (mean explanation score, dimensions, flaw rate right/wrong)
  delta_rot_judge       δ-RoT (our protocol): the model writes contexts and rationales, the critic judges validity
                        and direction (primary: valid and in the intended direction)
  Each writes <output>/<id>/<stage>/ (student + critic, generation + judge) with its own files and cache; other
  task ids in --tasks run as usual into <output>. ::olmes:full lifts the default instance limit.
  --critic-model DIR|ID the critic: a checkpoint folder or hub id, in-process
  --critic-openai URL   the critic: an OpenAI-compatible server (--concurrency, --timeout, --retries and
                        --api-key-env apply to it too)
  --critic-model-name NAME  the model name the critic server serves (required with --critic-openai)
  --critic-tokenizer DIR|dolma2  --critic-model: when the checkpoint has no tokenizer.json
  --critic-chat         --critic-openai: generate through /v1/chat/completions

Local multiple-choice tasks: folders <data dir>/NAME/{train,test}.jsonl with rows in ARC's schema
{id, question, choices: {text, label}, answerKey} run as local_mc:NAME[:mc|:rc] (synth_world and synth_arith are
built in). They use OLMES's ARC-Easy formats; there are no curated shots, so the first k train rows are the shots.`;

export function dataSource(dataDir: string | undefined): DatasetSource {
  const sources: DatasetSource[] = [];
  if (dataDir !== undefined) {
    if (!existsSync(dataDir) || !statSync(dataDir).isDirectory())
      throw new UsageError(`olmo eval: --data-dir ${dataDir} is not a folder`);
    sources.push(new LocalHfFolderSource(dataDir));
    if (existsSync(join(dataDir, 'eval'))) sources.push(new LocalHfFolderSource(join(dataDir, 'eval')));
  }
  sources.push(new HfCacheSource());
  sources.push(new HubDatasetSource({ log: (line) => process.stderr.write(`${line}\n`) })); // online only; HF_HUB_OFFLINE=1 turns it off
  return new ChainSource(sources);
}

function tokenizerFrom(choice: string): Tokenizer {
  if (choice === 'dolma2') return dolma2Tokenizer();
  if (!existsSync(choice))
    throw new UsageError(`olmo eval: --tokenizer ${choice} does not exist (a folder with tokenizer.json, or dolma2)`);
  return loadTokenizer(choice);
}

const OPTIONS = {
  ...optionTable(
    [
      'model',
      'model-name',
      'output',
      'data-dir',
      'limit',
      'num-shots',
      'batch-size',
      'model-batch-size',
      'quantize',
      'max-length',
      'tokenizer',
      'concurrency',
      'logprobs',
      'api-key-env',
      'timeout',
      'retries',
      'rescore',
      'critic-model',
      'critic-openai',
      'critic-model-name',
      'critic-tokenizer',
    ],
    ['chat', 'list-tasks', 'dry-run', 'critic-chat'],
  ),
  tasks: { type: 'string', multiple: true },
  openai: { type: 'string', multiple: true },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
type Log = (message: string) => void;

function listTasks(out: NodeJS.WritableStream): number {
  out.write(
    listTaskIds().join('\n') +
      '\nlocal_mc:NAME[:mc|:rc]  (a folder NAME/{train,test}.jsonl under --data-dir)\n' +
      criticModeIds()
        .map((id) => `${id}  (with --critic-model or --critic-openai: ${CRITIC_MODES[id.split('::')[0]].describe})\n`)
        .join(''),
  );
  return 0;
}

async function rescoreFolders(dir: string, out: NodeJS.WritableStream): Promise<number> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`olmo eval: --rescore ${dir} is not a folder`);
  const dirs = runFolders(dir);
  if (dirs.length === 0)
    throw new UsageError(
      `olmo eval: --rescore ${dir}: no task-NNN-*-metrics.json files in it or its stage folders (is it an olmo eval --output folder?)`,
    );
  for (const d of dirs) {
    const run = await rescore(d);
    if (dirs.length > 1 || d !== dir) out.write(`${d}\n`);
    out.write(resultsTable(run) + '\n');
  }
  return 0;
}

/** --limit and --num-shots as config overrides. */
function overridesFrom(values: Values): ConfigOverrides {
  const limitRaw = numberOption('eval', 'limit', values.limit, { min: Number.MIN_VALUE });
  if (limitRaw !== undefined && !Number.isInteger(limitRaw) && limitRaw >= 1)
    throw new UsageError(`olmo eval: --limit must be an integer or a fraction below 1, got '${values.limit}'`);
  const overrides: ConfigOverrides = {};
  if (limitRaw !== undefined) overrides.limit = limitRaw;
  const shots = numberOption('eval', 'num-shots', values['num-shots'], { integer: true, min: 0 });
  if (shots !== undefined) overrides.num_shots = shots;
  return overrides;
}

/** The task list resolved, and the critic options checked against the critic modes it names. */
function planFrom(values: Values, overrides: ConfigOverrides): EvaluatePlan {
  const ids = values
    .tasks!.flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0)
    throw new UsageError('olmo eval: --tasks needs at least one task id (see olmo eval --list-tasks)');
  let planned: EvaluatePlan;
  try {
    planned = planEvaluation(ids, overrides);
  } catch (e) {
    if (e instanceof TaskIdError) throw new UsageError(`olmo eval: ${e.message}`);
    throw e;
  }
  const { modes } = planned;
  const criticGiven = values['critic-model'] !== undefined || values['critic-openai'] !== undefined;
  if (modes.length > 0 && values['dry-run']) {
    throw new UsageError(
      `olmo eval: --dry-run cannot write ${modes.map((m) => m.mode.name).join(', ')}: the critic's requests depend on the evaluated model's outputs`,
    );
  }
  if (!values['dry-run']) {
    if (modes.length > 0 && !criticGiven) {
      throw new UsageError(
        `olmo eval: ${modes.map((m) => m.id).join(', ')} needs a critic model: --critic-model DIR or --critic-openai URL --critic-model-name NAME`,
      );
    }
    if (criticGiven && modes.length === 0) {
      throw new UsageError(
        `olmo eval: --critic-model / --critic-openai are used by the critic modes only (${Object.keys(CRITIC_MODES).join(', ')}); none is in --tasks`,
      );
    }
    if (values['critic-model'] !== undefined && values['critic-openai'] !== undefined)
      throw new UsageError('olmo eval: give one of --critic-model DIR or --critic-openai URL');
  }
  return planned;
}

/** HTTP settings shared by --openai and --critic-openai. */
function httpOptions(values: Values, log: Log) {
  const keyVar = values['api-key-env'] ?? 'OPENAI_API_KEY';
  const apiKey = process.env[keyVar];
  if (values['api-key-env'] !== undefined && !apiKey)
    throw new UsageError(`olmo eval: --api-key-env ${keyVar}: the variable is not set`);
  const concurrency = numberOption('eval', 'concurrency', values.concurrency, { integer: true, min: 1 }) ?? 8;
  const timeout = numberOption('eval', 'timeout', values.timeout, { min: 0.001 });
  const retries = numberOption('eval', 'retries', values.retries, { integer: true, min: 0 });
  return {
    apiKey,
    concurrency,
    ...(timeout !== undefined ? { timeoutMs: Math.round(timeout * 1000) } : {}),
    ...(retries !== undefined ? { maxRetries: retries } : {}),
    log,
  };
}

function parseUrl(flag: string, value: string): string {
  try {
    return new URL(value).toString();
  } catch {
    throw new UsageError(`olmo eval: --${flag} ${value} is not a URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
}

/** The evaluated model from --model (in-process) or --openai; its provenance goes into computeConfig. */
function modelBackend(values: Values, computeConfig: Record<string, unknown>, log: Log): Backend {
  if ((values.model === undefined) === (values.openai === undefined)) {
    throw new UsageError('olmo eval: give exactly one of --model DIR (in-process) or --openai URL (a server)');
  }
  const maxLength = numberOption('eval', 'max-length', values['max-length'], { integer: true, min: 2 });
  if (values.model !== undefined) {
    const criticHttp = values['critic-openai'] !== undefined;
    for (const o of [
      'model-name',
      'logprobs',
      'chat',
      ...(criticHttp ? [] : (['concurrency', 'api-key-env', 'timeout', 'retries'] as const)),
    ] as const) {
      if (values[o] !== undefined) throw new UsageError(`olmo eval: --${o} applies to --openai, not to --model`);
    }
    const dir = requireModelDir('eval', values.model);
    const modelBatchSize =
      numberOption('eval', 'model-batch-size', values['model-batch-size'], { integer: true, min: 1 }) ?? 1;
    const quantize = readQuantize('eval', values.quantize);
    const model = loadInferenceModel(dir, quantize);
    if (quantize) computeConfig.quantize = quantize; // results differ from the unquantised model's: keep their caches apart
    const tokenizer = resolveTokenizer('eval', dir, model, values.tokenizer);
    const modelMax = model.config.maxPositionEmbeddings;
    if (maxLength !== undefined && maxLength > modelMax)
      throw new UsageError(
        `olmo eval: --max-length ${maxLength} exceeds the model's max_position_embeddings ${modelMax}`,
      );
    Object.assign(computeConfig, { backend: 'local', model_batch_size: modelBatchSize });
    return new LocalBackend({ model, tokenizer, name: resolve(dir), checkpointDir: dir, maxLength, modelBatchSize });
  }
  if (values['model-batch-size'] !== undefined)
    throw new UsageError('olmo eval: --model-batch-size applies to --model, not to --openai');
  if (!values['model-name'])
    throw new UsageError('olmo eval: --model-name NAME is required with --openai (the model name the server serves)');
  const mode = values.logprobs ?? 'echo';
  if (mode !== 'echo' && mode !== 'prompt_logprobs')
    throw new UsageError(`olmo eval: --logprobs must be echo or prompt_logprobs, got '${mode}'`);
  if (mode === 'prompt_logprobs' && values.tokenizer === undefined)
    throw new UsageError('olmo eval: --logprobs prompt_logprobs needs --tokenizer DIR|dolma2');
  const h = httpOptions(values, log);
  Object.assign(computeConfig, { backend: 'openai', concurrency: h.concurrency, logprobs: mode });
  const urls = values.openai!.map((u) => parseUrl('openai', u));
  if (urls.length > 1) computeConfig.endpoints = urls.length;
  const common = {
    model: values['model-name'],
    maxLength,
    tokenizer: values.tokenizer !== undefined ? tokenizerFrom(values.tokenizer) : undefined,
    logprobsMode: mode as LogprobsMode,
    generationApi: values.chat ? ('chat' as const) : ('completions' as const),
    ...h,
  };
  return urls.length > 1
    ? new OpenAIPool({ ...common, baseUrls: urls })
    : new OpenAIBackend({ ...common, baseUrl: urls[0] });
}

/** The critic of the two-model modes from --critic-model or --critic-openai, or undefined. */
function criticBackend(values: Values, computeConfig: Record<string, unknown>, log: Log): Backend | undefined {
  if (values['critic-model'] !== undefined) {
    for (const o of ['critic-model-name', 'critic-chat'] as const) {
      if (values[o] !== undefined)
        throw new UsageError(`olmo eval: --${o} applies to --critic-openai, not to --critic-model`);
    }
    const dir = values['critic-model'];
    if (!existsSync(dir)) throw new UsageError(`olmo eval: --critic-model folder ${dir} does not exist`);
    const model = loadInferenceModel(dir);
    computeConfig.critic = { backend: 'local', model: resolve(dir) };
    return new LocalBackend({
      model,
      tokenizer: resolveTokenizer('eval', dir, model, values['critic-tokenizer']),
      name: resolve(dir),
      checkpointDir: dir,
    });
  }
  if (values['critic-openai'] !== undefined) {
    if (values['critic-tokenizer'] !== undefined)
      throw new UsageError('olmo eval: --critic-tokenizer applies to --critic-model, not to --critic-openai');
    if (!values['critic-model-name'])
      throw new UsageError(
        'olmo eval: --critic-model-name NAME is required with --critic-openai (the model name the critic server serves)',
      );
    computeConfig.critic = { backend: 'openai', model: values['critic-model-name'] };
    return new OpenAIBackend({
      baseUrl: parseUrl('critic-openai', values['critic-openai']),
      model: values['critic-model-name'],
      generationApi: values['critic-chat'] ? 'chat' : 'completions',
      ...httpOptions(values, log),
    });
  }
  for (const o of ['critic-model-name', 'critic-tokenizer', 'critic-chat'] as const) {
    if (values[o] !== undefined) throw new UsageError(`olmo eval: --${o} needs --critic-model or --critic-openai`);
  }
  return undefined;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a model on OLMES tasks (in-process or through an OpenAI-compatible server)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs('eval', { args: argv, options: OPTIONS });
    const out = process.stdout;
    const err = process.stderr;
    if (values['list-tasks']) return listTasks(out);
    if (values.rescore !== undefined) return rescoreFolders(values.rescore, out);

    if (values.tasks === undefined)
      throw new UsageError('olmo eval: --tasks IDS is required (comma-separated task ids; see olmo eval --list-tasks)');
    if (values.output === undefined) throw new UsageError('olmo eval: --output DIR is required');
    const outputDir = values.output;
    const overrides = overridesFrom(values);
    const batchSize = numberOption('eval', 'batch-size', values['batch-size'], { integer: true, min: 1 }) ?? 32;
    const tasks = planFrom(values, overrides);
    const source = dataSource(values['data-dir']);
    const progress = new EvalProgressPrinter(err);
    const onProgress = (p: Parameters<EvalProgressPrinter['update']>[0]) => progress.update(p);

    if (values['dry-run']) {
      const r = await evaluate({ tasks, overrides, source, outputDir, onProgress, dryRun: true });
      progress.endLine();
      out.write(`wrote ${r.dry!.files.length} requests files (${r.dry!.numRequests} requests) to ${outputDir}\n`);
      return 0;
    }
    const computeConfig: Record<string, unknown> = {
      package: 'olmo-ts',
      package_version: packageVersion(),
      git_commit: gitCommit(),
      node_version: process.version,
    };
    const log = (m: string) => {
      progress.endLine();
      err.write(`${m}\n`);
    };
    // a hub id (owner/name[@revision]) becomes its snapshot folder in the Hugging Face cache, downloaded when online
    if (values.model !== undefined && values.openai === undefined)
      values.model = await resolveModelArg('eval', values.model);
    if (values['critic-model'] !== undefined)
      values['critic-model'] = await resolveModelArg('eval', values['critic-model'], '--critic-model');
    const backend = modelBackend(values, computeConfig, log);
    const critic = criticBackend(values, computeConfig, log);
    await evaluate({
      tasks,
      overrides,
      source,
      outputDir,
      backend,
      critic,
      batchSize,
      onProgress,
      computeConfig,
      onPart: ({ mode, stage, dir, result }) => {
        progress.endLine();
        const what = mode === undefined ? '' : `${mode} ${stage}: `;
        err.write(`${what}${result.computed} requests computed, ${result.cached} from the cache; outputs in ${dir}\n`);
        out.write(mode === undefined ? result.table + '\n' : `${mode} — ${stage} (${dir})\n${result.table}\n`);
      },
    }).finally(() => progress.endLine());
    return 0;
  },
};
