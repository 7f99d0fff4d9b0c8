// δ-Rules-of-Thumb (Rao et al., "What Makes it Ok to Set a Fire?", Findings of EMNLP 2023,
// https://aclanthology.org/2023.findings-emnlp.812; data https://huggingface.co/datasets/kavelrao/d-Rules-of-Thumb):
// defeasible moral reasoning. Given an everyday action and a
// direction (+1: make it MORE acceptable, a strengthener; −1: LESS acceptable, a weakener) a model writes a context
// and a rationale. The paper has no released scorer: everything scored here is OUR PROTOCOL:
//
//   delta_rot              generation: (action, direction) pairs of critic-gold-data split test, `num_samples`
//                          samples each; format rate and diversity (distinct-n within an action and over the corpus)
//   delta_rot_judge        (pipeline.ts, second backend) a critic model judges each generated context: validity,
//                          direction, and the share of valid contexts in the intended direction (primary)
//   delta_rot_critic_gold  the critic's own accuracy against the human `context-quality` labels (split test), to
//                          calibrate a judge before trusting it
//
// Data: HF kavelrao/d-Rules-of-Thumb, `critic-gold-data.tsv` (TSV as written by pandas), read from a local
// HF-layout folder or the hub cache; a JSONL/Parquet export with the same columns also works (split
// `critic-gold-data`).
import { RowError } from '../../data/fields.ts';
import { DatasetNotFoundError, type DatasetSource } from '../../data/source.ts';
import type { Task } from '../../task.ts';
import type { GenerationKwargs, Row } from '../../types.ts';
import * as chatGen from '../../kinds/chat-generation.ts';
import { findDatasetFile, rowLocator } from '../../data/dataset-files.ts';
import { distinctN } from '../../correlation.ts';
import { readTsv } from './tsv.ts';

export const DROT_PATH = 'kavelrao/d-Rules-of-Thumb';
export const CRITIC_GOLD_FILE = 'critic-gold-data.tsv';
export const OUR_PROTOCOL = 'ours (the δ-RoT paper releases no scorer)';

export type Direction = 1 | -1;
export const directionName = (d: Direction) => (d === 1 ? 'strengthener' : 'weakener');
export const directionPhrase = (d: Direction) => (d === 1 ? 'more acceptable' : 'less acceptable');

export interface CriticGoldRow {
  action: string;
  direction: Direction;
  context: string;
  rationale: string;
  /** human label: 1 valid, 0 invalid (null when the column is absent) */
  quality: number | null;
  split: string | null;
  where: string;
}

function field(row: Row, k: string, where: string): string {
  const v = row[k];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new RowError(
    `${where}: field "${k}" must be present, got ${v === undefined ? 'nothing (column missing)' : JSON.stringify(v)}`,
  );
}

function parseDirection(v: string, where: string): Direction {
  const n = Number(v.trim());
  if (n === 1 || n === -1) return n;
  throw new RowError(`${where}: field "moral-variance" must be 1 or -1, got ${JSON.stringify(v)}`);
}

export function criticGoldRow(row: Row, where: string): CriticGoldRow {
  const q = row['context-quality'];
  let quality: number | null = null;
  if (q !== undefined && q !== null && q !== '') {
    const n = Number(String(q).trim());
    if (n !== 0 && n !== 1)
      throw new RowError(`${where}: field "context-quality" must be 0 or 1, got ${JSON.stringify(q)}`);
    quality = n;
  }
  return {
    action: field(row, 'action', where).trim(),
    direction: parseDirection(field(row, 'moral-variance', where), where),
    context: typeof row.context === 'string' ? row.context.trim() : '',
    rationale: typeof row.rationale === 'string' ? row.rationale.trim() : '',
    quality,
    split: typeof row.split === 'string' ? row.split.trim() : null,
    where,
  };
}

/** critic-gold-data rows: the TSV in the dataset folder, else a split named `critic-gold-data` of the source. */
export async function loadCriticGold(source: DatasetSource, path = DROT_PATH): Promise<CriticGoldRow[]> {
  const { file, tried } = findDatasetFile(source, path, [CRITIC_GOLD_FILE]);
  if (file) return readTsv(file).map((r) => criticGoldRow(r, `${file}:${r.__line}`));
  try {
    const split = await source.load({ path, split: 'critic-gold-data' });
    const at = rowLocator(split);
    return split.rows.map((r, i) => criticGoldRow(r, at(i)));
  } catch (e) {
    if (!(e instanceof DatasetNotFoundError)) throw e;
    throw new DatasetNotFoundError(
      `δ-RoT: ${CRITIC_GOLD_FILE} not found; looked for ${tried.join(', ') || '(no dataset folders in this source)'} and a critic-gold-data split (${e.message}). ` +
        `Fetch it with \`huggingface-cli download --repo-type dataset ${path} ${CRITIC_GOLD_FILE} --local-dir <data>/${path}\`.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generation

export const GENERATION_KWARGS: GenerationKwargs = {
  max_gen_toks: 128,
  do_sample: true,
  temperature: 0.7,
  top_p: 0.9,
  stop_sequences: ['\n\n', '\nAction:'],
};

const INSTRUCTION =
  'Given an everyday action and a direction, write a short, concrete context in which the action becomes more or ' +
  'less morally acceptable (as the direction says), and a rationale that explains why.';

export interface Shot {
  action: string;
  direction: Direction;
  context: string;
  rationale: string;
}

/** OUR generation prompt; the completion is expected to be " <context>\nRationale: <rationale>". */
export function generationPrompt(action: string, direction: Direction, shots: readonly Shot[] = []): string {
  const block = (s: { action: string; direction: Direction }) =>
    `Action: ${s.action}\nDirection: ${directionPhrase(s.direction)}\nContext:`;
  const parts = [
    INSTRUCTION,
    ...shots.map((s) => `${block(s)} ${s.context}\nRationale: ${s.rationale}`),
    block({ action, direction }),
  ];
  return parts.join('\n\n');
}

/** Context and rationale from a completion of generationPrompt; null fields when absent (never guessed). */
export function parseGeneration(completion: string): { context: string | null; rationale: string | null } {
  let t = completion.replace(/^\s*context\s*:/i, '');
  const m = /(?:^|\n)\s*rationale\s*:/i.exec(t);
  if (!m) {
    t = t.trim();
    return { context: t === '' ? null : t.split('\n')[0].trim() || null, rationale: null };
  }
  const context = t.slice(0, m.index).trim();
  const rationale = t
    .slice(m.index + m[0].length)
    .split(/\n\s*\n/)[0]
    .trim();
  return { context: context === '' ? null : context, rationale: rationale === '' ? null : rationale };
}

type GenDocT = chatGen.GenDoc<{ action: string; direction: Direction; shots: Shot[] }>;

export class DeltaRotGenerationTask extends chatGen.ChatGenerationTask<GenDocT> {
  static create(
    o: { name?: string; regime?: string; limit?: number | null; numSamples?: number; numShots?: number } = {},
  ): DeltaRotGenerationTask {
    return new DeltaRotGenerationTask(
      chatGen.makeGenerationConfig({
        name: o.name ?? 'delta_rot',
        regime: o.regime ?? 'olmes',
        datasetPath: DROT_PATH,
        split: 'test',
        fewshotSplit: 'train',
        numShots: o.numShots ?? 2,
        primaryMetric: 'format_rate',
        limit: o.limit === undefined ? 1000 : o.limit,
        protocol: OUR_PROTOCOL,
        generationKwargs: GENERATION_KWARGS,
        numSamples: o.numSamples ?? 3,
        extra: { data_file: CRITIC_GOLD_FILE },
      }),
    );
  }

  /** Shots: the first valid train rows, alternating strengthener and weakener. */
  pickShots(rows: readonly CriticGoldRow[]): Shot[] {
    const k = this.config.num_shots;
    const pools: Record<string, CriticGoldRow[]> = { '1': [], '-1': [] };
    for (const r of rows)
      if (r.split === this.config.fewshot_split && r.quality === 1 && r.context && r.rationale)
        pools[String(r.direction)].push(r);
    const shots: Shot[] = [];
    for (let i = 0; shots.length < k; i++) {
      const r = pools[i % 2 === 0 ? '1' : '-1'][Math.floor(i / 2)];
      if (!r)
        throw new Error(
          `${this.config.alias}: ${k} few-shot examples asked for, but ${CRITIC_GOLD_FILE} split ${this.config.fewshot_split} has too few valid rows`,
        );
      shots.push({ action: r.action, direction: r.direction, context: r.context, rationale: r.rationale });
    }
    return shots;
  }

  docsFromRows(rows: readonly CriticGoldRow[]): GenDocT[] {
    const shots = this.pickShots(rows);
    const seen = new Set<string>();
    const docs: GenDocT[] = [];
    for (const r of rows) {
      if (r.split !== this.config.split) continue;
      const key = `${r.direction}\t${r.action}`;
      if (seen.has(key)) continue;
      seen.add(key);
      docs.push({
        index: docs.length,
        native_id: key,
        query: r.action,
        choices: [],
        gold: r.direction,
        extra: { action: r.action, direction: r.direction, shots },
      });
    }
    return docs;
  }

  async loadDocs(source: DatasetSource): Promise<GenDocT[]> {
    return this.docsFromRows(await loadCriticGold(source, this.config.dataset_path));
  }

  requests(doc: GenDocT): chatGen.ChatGenerateRequest[] {
    const context = generationPrompt(doc.extra.action, doc.extra.direction, doc.extra.shots);
    return Array.from({ length: this.config.num_samples }, (_, j) => ({
      type: 'generate_until' as const,
      context,
      messages: [{ role: 'user' as const, content: context }],
      generation_kwargs: { ...this.config.generation_kwargs, sample_index: j },
    }));
  }

  score(doc: GenDocT, outputs: string[]): chatGen.ScoredDoc {
    const parsed = outputs.map(parseGeneration);
    const ok = parsed.filter((p) => p.context !== null && p.rationale !== null);
    const contexts = ok.map((p) => p.context!);
    const m: Record<string, number> = { format_rate: ok.length / outputs.length };
    m[`format_rate_${directionName(doc.extra.direction)}`] = m.format_rate;
    if (contexts.length > 0) {
      m.distinct_1 = distinctN(contexts, 1);
      m.distinct_2 = distinctN(contexts, 2);
      m.unique_context_rate = new Set(contexts.map((c) => c.toLowerCase().replace(/\s+/g, ' '))).size / contexts.length;
    }
    return {
      metrics: m,
      outputs: outputs.map((c, j) => ({
        continuation: c,
        ...parsed[j],
        parsed: parsed[j].context !== null && parsed[j].rationale !== null,
        direction: doc.extra.direction,
      })),
      data: contexts,
    };
  }

  override corpus(scored: chatGen.ScoredDoc[]): Record<string, number> {
    const all = scored.flatMap((s) => s.data as string[]);
    return {
      corpus_distinct_1: distinctN(all, 1),
      corpus_distinct_2: distinctN(all, 2),
      generated_contexts: all.length,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Judging (a critic model through any backend)

export const JUDGE_KWARGS: GenerationKwargs = {
  max_gen_toks: 32,
  do_sample: false,
  temperature: 0,
  stop_sequences: ['\n\n'],
};

/** OUR judge prompt. The judge is not told the intended direction; it states the one it sees. */
export function judgePrompt(action: string, context: string, rationale: string): string {
  return [
    'You are judging a context written for an everyday action. A good context is a plausible, specific situation ' +
      'that changes how morally acceptable the action is; the rationale explains why.',
    `Action: ${action}\nContext: ${context}\nRationale: ${rationale}`,
    'Question 1: Is the context valid, that is plausible, relevant to the action, and does it change how acceptable the action is? Answer yes or no.\n' +
      'Question 2: Given the context, is the action more or less morally acceptable than without it? Answer more or less.',
    'Answer in exactly this format:\nValid: <yes or no>\nDirection: <more or less>',
  ].join('\n\n');
}

export type JudgeParse = { ok: true; valid: boolean; direction: Direction } | { ok: false; errors: string[] };

/** "Valid: yes|no" and "Direction: more|less"; missing or conflicting answers are reported, not guessed. */
export function parseJudgement(text: string): JudgeParse {
  const errors: string[] = [];
  const one = <T>(re: RegExp, map: (s: string) => T, what: string): T | undefined => {
    const vals = [...text.matchAll(re)].map((m) => m[1].toLowerCase());
    if (vals.length === 0) {
      errors.push(`no "${what}:" answer`);
      return undefined;
    }
    if (new Set(vals).size > 1) {
      errors.push(`conflicting "${what}:" answers ${vals.join(', ')}`);
      return undefined;
    }
    return map(vals[0]);
  };
  const valid = one(/^[ \t*]*valid[ \t*]*:[ \t*]*(yes|no)\b/gim, (s) => s === 'yes', 'Valid');
  const direction = one(
    /^[ \t*]*direction[ \t*]*:[ \t*]*(more|less)\b/gim,
    (s): Direction => (s === 'more' ? 1 : -1),
    'Direction',
  );
  if (valid === undefined || direction === undefined) return { ok: false, errors };
  return { ok: true, valid, direction };
}

export interface JudgeItem {
  id: string;
  action: string;
  direction: Direction;
  context: string | null;
  rationale: string | null;
  /** human label (critic-gold) */
  quality?: number | null;
}

type JudgeDoc = chatGen.GenDoc<{ item: JudgeItem }>;

function judgeRequest(item: JudgeItem, kwargs: GenerationKwargs): chatGen.ChatGenerateRequest {
  const context = judgePrompt(item.action, item.context ?? '', item.rationale ?? '');
  return { type: 'generate_until', context, messages: [{ role: 'user', content: context }], generation_kwargs: kwargs };
}

/** The judged stage: every generated sample is a doc; unparseable generations are not sent and count as invalid. */
export class DeltaRotJudgeTask extends chatGen.ChatGenerationTask<JudgeDoc> {
  constructor(
    config: chatGen.GenerationTaskConfig,
    readonly items: JudgeItem[],
  ) {
    super(config);
  }

  static create(items: JudgeItem[], o: { name?: string; generator?: string } = {}): DeltaRotJudgeTask {
    return new DeltaRotJudgeTask(
      chatGen.makeGenerationConfig({
        name: o.name ?? 'delta_rot_judge',
        regime: 'olmes',
        datasetPath: DROT_PATH,
        split: 'test',
        primaryMetric: 'valid_and_direction',
        limit: null,
        protocol: OUR_PROTOCOL,
        generationKwargs: JUDGE_KWARGS,
        extra: { generator: o.generator ?? null },
      }),
      items,
    );
  }

  async loadDocs(): Promise<JudgeDoc[]> {
    return this.items.map((item, index) => ({
      index,
      native_id: item.id,
      query: item.action,
      choices: [],
      gold: item.direction,
      extra: { item },
    }));
  }

  requests(doc: JudgeDoc): chatGen.ChatGenerateRequest[] {
    const it = doc.extra.item;
    return it.context === null || it.rationale === null ? [] : [judgeRequest(it, this.config.generation_kwargs)];
  }

  score(doc: JudgeDoc, outputs: string[]): chatGen.ScoredDoc {
    const it = doc.extra.item;
    const dir = directionName(it.direction);
    if (outputs.length === 0) {
      const m = { judged: 0, valid: 0, valid_and_direction: 0, [`valid_and_direction_${dir}`]: 0 };
      return {
        metrics: m,
        outputs: [{ continuation: null, judged: false, reason: 'generation had no context or rationale' }],
      };
    }
    const p = parseJudgement(outputs[0]);
    const m: Record<string, number> = { judged: 1, judge_parsed: p.ok ? 1 : 0 };
    if (p.ok) m.direction_match = p.direction === it.direction ? 1 : 0;
    m.valid = p.ok && p.valid ? 1 : 0;
    m.valid_and_direction = p.ok && p.valid && p.direction === it.direction ? 1 : 0;
    m[`valid_and_direction_${dir}`] = m.valid_and_direction;
    return {
      metrics: m,
      outputs: [
        {
          continuation: outputs[0],
          ...(p.ok ? { valid: p.valid, judged_direction: p.direction } : { parse_errors: p.errors }),
          intended_direction: it.direction,
        },
      ],
    };
  }
}

/** The critic's accuracy against the human labels of critic-gold-data (split test by default). */
export class DeltaRotCriticGoldTask extends chatGen.ChatGenerationTask<JudgeDoc> {
  static create(
    o: { name?: string; regime?: string; limit?: number | null; split?: string } = {},
  ): DeltaRotCriticGoldTask {
    return new DeltaRotCriticGoldTask(
      chatGen.makeGenerationConfig({
        name: o.name ?? 'delta_rot_critic_gold',
        regime: o.regime ?? 'olmes',
        datasetPath: DROT_PATH,
        split: o.split ?? 'test',
        primaryMetric: 'accuracy',
        limit: o.limit === undefined ? null : o.limit,
        protocol: OUR_PROTOCOL,
        generationKwargs: JUDGE_KWARGS,
        extra: { data_file: CRITIC_GOLD_FILE },
      }),
    );
  }

  docsFromRows(rows: readonly CriticGoldRow[]): JudgeDoc[] {
    const docs: JudgeDoc[] = [];
    for (const r of rows) {
      if (r.split !== this.config.split) continue;
      if (r.quality === null) throw new RowError(`${r.where}: field "context-quality" is needed to score the critic`);
      const item: JudgeItem = {
        id: r.where,
        action: r.action,
        direction: r.direction,
        context: r.context,
        rationale: r.rationale,
        quality: r.quality,
      };
      docs.push({
        index: docs.length,
        native_id: r.where.replace(/^.*\//, ''),
        query: r.action,
        choices: [],
        gold: r.quality,
        extra: { item },
      });
    }
    return docs;
  }

  async loadDocs(source: DatasetSource): Promise<JudgeDoc[]> {
    return this.docsFromRows(await loadCriticGold(source, this.config.dataset_path));
  }

  requests(doc: JudgeDoc): chatGen.ChatGenerateRequest[] {
    return [judgeRequest(doc.extra.item, this.config.generation_kwargs)];
  }

  score(doc: JudgeDoc, outputs: string[]): chatGen.ScoredDoc {
    const it = doc.extra.item;
    const p = parseJudgement(outputs[0]);
    const pred = p.ok && p.valid && p.direction === it.direction ? 1 : 0;
    const m: Record<string, number> = { judge_parsed: p.ok ? 1 : 0, accuracy: p.ok && pred === it.quality ? 1 : 0 };
    if (p.ok) m.pred_valid = pred;
    return {
      metrics: m,
      outputs: [
        {
          continuation: outputs[0],
          ...(p.ok
            ? { valid: p.valid, judged_direction: p.direction, predicted_label: pred }
            : { parse_errors: p.errors }),
          label: it.quality,
        },
      ],
      data: { pred: p.ok ? pred : null, label: it.quality },
    };
  }

  override corpus(scored: chatGen.ScoredDoc[]): Record<string, number> {
    const d = scored.map((s) => s.data as { pred: number | null; label: number });
    const tp = d.filter((x) => x.pred === 1 && x.label === 1).length;
    const fp = d.filter((x) => x.pred === 1 && x.label === 0).length;
    const fn = d.filter((x) => x.pred !== 1 && x.label === 1).length;
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    return {
      precision_valid: precision,
      recall_valid: recall,
      f1_valid: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      label_valid_rate: d.length ? d.filter((x) => x.label === 1).length / d.length : 0,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Registration

export const DELTA_ROT_TASKS: Record<string, chatGen.GenerationTaskFactory> = {
  delta_rot: (args) =>
    new DeltaRotGenerationTask(chatGen.applyArgs(DeltaRotGenerationTask.create({ regime: args.regime }).config, args)),
  delta_rot_critic_gold: (args) =>
    new DeltaRotCriticGoldTask(chatGen.applyArgs(DeltaRotCriticGoldTask.create({ regime: args.regime }).config, args)),
};

/** Tasks made only by the judged mode (pipeline.ts), whose docs come from the generation stage: rebuilt for rescore. */
export const DELTA_ROT_STAGE_TASKS: Record<string, (config: chatGen.GenerationTaskConfig) => Task> = {
  delta_rot_judge: (config) => new DeltaRotJudgeTask(config, []),
};

export const deltaRotResolver = chatGen.generationResolver(
  Object.keys(DELTA_ROT_TASKS).join(', '),
  DELTA_ROT_TASKS,
  DELTA_ROT_STAGE_TASKS,
);
