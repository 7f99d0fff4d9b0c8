// WorldValuesBench (Zhao, Mondal et al., LREC-COLING 2024): the released metadata and probe index from GitHub
// `Demon702/WorldValuesBench`, and the human answers from the World Values Survey Wave 7 CSV, which the user
// downloads (WVS terms forbid redistribution; nothing of it is stored in this project).
//
// Release folder (repo layout or flat): question_metadata.json, codebook.json, answer_adjustment.json,
// WorldValuesBench/probe/samples.tsv (Question, Question Category, Continent, Urban / Rural, Education, D_INTERVIEW).
// The WVS CSV: columns named by variable (D_INTERVIEW, B_COUNTRY, H_URBRURAL, Q1 … Q290), numeric codes.
// Preparation as data_preparation.py: answer_adjustment first (e.g. Q56 2↔3), negative codes → missing for ordinal
// questions, codebook text for the demographic (non-ordinal) ones; interview 858069901 (a duplicate) is dropped.
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CachingSource,
  ChainSource,
  HfCacheSource,
  LocalHfFolderSource,
  type DatasetSource,
} from '../../data/source.ts';
import type { Scale } from './metric.ts';

export const WVB_REPO = 'Demon702/WorldValuesBench';
export const WVS_DOWNLOAD_URL = 'https://www.worldvaluessurvey.org/WVSDocumentationWV7.jsp';
export const WVB_DUPLICATE_INTERVIEW = '858069901';
/** The probe's grouping variables, in the README prompt's order: country, urban/rural, education. */
export const PROBE_DEMOGRAPHICS = ['B_COUNTRY', 'H_URBRURAL', 'Q275'];

export class WvbDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WvbDataError';
  }
}

export interface QuestionMeta {
  question: string;
  category: string;
  use_case: 'value' | 'demographic';
  answer_scale_min: number | '';
  answer_scale_max: number | '';
  answer_data_type: 'ordinal' | 'non_ordinal';
}

export interface CodebookEntry {
  question?: string;
  choices: Record<string, string>;
}

export interface ProbeRow {
  question: string;
  category: string;
  continent: string;
  urbanRural: string;
  education: string;
  participant: string;
}

export interface WvbRelease {
  dir: string;
  metadata: Record<string, QuestionMeta>;
  codebook: Record<string, CodebookEntry>;
  adjustment: Record<string, Record<string, string>>;
  probe: ProbeRow[];
}

const CANDIDATES: Record<string, string[]> = {
  metadata: [
    'dataset_construction/question_metadata.json',
    'WorldValuesBench/question_metadata.json',
    'question_metadata.json',
  ],
  codebook: ['dataset_construction/codebook.json', 'codebook.json'],
  adjustment: ['dataset_construction/answer_adjustment.json', 'answer_adjustment.json'],
  probe: ['WorldValuesBench/probe/samples.tsv', 'probe/samples.tsv', 'samples.tsv'],
};

function findFile(dir: string, what: keyof typeof CANDIDATES): string {
  for (const c of CANDIDATES[what]) if (existsSync(join(dir, c))) return join(dir, c);
  throw new WvbDataError(
    `WorldValuesBench release folder ${dir}: no ${what} file; looked for ${CANDIDATES[what].map((c) => join(dir, c)).join(', ')}. ` +
      `Clone https://github.com/${WVB_REPO} there (git clone https://github.com/${WVB_REPO} ${dir}).`,
  );
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new WvbDataError(`${path}: malformed JSON (${(e as Error).message})`);
  }
}

/** A TSV with a header row → records; names the file and line of a short row. */
export function readTsv(path: string): Record<string, string>[] {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  if (lines.length === 0) throw new WvbDataError(`${path}: empty file, expected a header row`);
  const head = lines[0].split('\t');
  return lines.slice(1).map((l, i) => {
    const cells = l.split('\t');
    if (cells.length !== head.length)
      throw new WvbDataError(`${path}:${i + 2}: ${cells.length} columns, the header has ${head.length}`);
    return Object.fromEntries(head.map((h, j) => [h, cells[j]]));
  });
}

export function parseProbe(rows: Record<string, string>[], where: string): ProbeRow[] {
  const need = ['Question', 'Continent', 'Urban / Rural', 'Education', 'D_INTERVIEW'];
  return rows.map((r, i) => {
    for (const k of need)
      if (r[k] === undefined || r[k] === '')
        throw new WvbDataError(`${where}:${i + 2}: column "${k}" is missing or empty`);
    return {
      question: r.Question,
      category: r['Question Category'] ?? '',
      continent: r.Continent,
      urbanRural: r['Urban / Rural'],
      education: r.Education,
      participant: r.D_INTERVIEW,
    };
  });
}

export function loadRelease(dir: string): WvbRelease {
  if (!existsSync(dir))
    throw new WvbDataError(
      `WorldValuesBench release folder ${dir} does not exist; clone https://github.com/${WVB_REPO} there.`,
    );
  const metadata = readJson<Record<string, QuestionMeta>>(findFile(dir, 'metadata'));
  const codebook = readJson<Record<string, CodebookEntry>>(findFile(dir, 'codebook'));
  const adjustment = readJson<Record<string, Record<string, string>>>(findFile(dir, 'adjustment'));
  const probePath = findFile(dir, 'probe');
  const probe = parseProbe(readTsv(probePath), probePath);
  for (const [i, p] of probe.entries()) {
    const m = metadata[p.question];
    if (!m) throw new WvbDataError(`${probePath}:${i + 2}: question ${p.question} is not in question_metadata.json`);
    if (
      m.answer_data_type !== 'ordinal' ||
      typeof m.answer_scale_min !== 'number' ||
      typeof m.answer_scale_max !== 'number'
    ) {
      throw new WvbDataError(
        `question_metadata.json: ${p.question} must be an ordinal value question with a numeric scale`,
      );
    }
  }
  return { dir, metadata, codebook, adjustment, probe };
}

export function scaleOf(meta: Record<string, QuestionMeta>, q: string): Scale {
  const m = meta[q];
  if (!m || typeof m.answer_scale_min !== 'number' || typeof m.answer_scale_max !== 'number')
    throw new WvbDataError(`question ${q}: no numeric answer scale in question_metadata.json`);
  return { min: m.answer_scale_min, max: m.answer_scale_max };
}

/** The release folder: $OLMO_WVB_DIR, else `<root>/Demon702/WorldValuesBench` of a local or hub-cache source. */
export function findReleaseDir(source: DatasetSource | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (env.OLMO_WVB_DIR) return env.OLMO_WVB_DIR;
  const tried: string[] = [];
  const walk = (s: DatasetSource | undefined): string | null => {
    if (!s) return null;
    if (s instanceof CachingSource) return walk(s.inner);
    if (s instanceof ChainSource) {
      for (const x of s.sources) {
        const r = walk(x);
        if (r) return r;
      }
      return null;
    }
    if (s instanceof LocalHfFolderSource) {
      const d = join(s.root, WVB_REPO);
      tried.push(d);
      return existsSync(d) ? d : null;
    }
    if (s instanceof HfCacheSource) {
      const d = s.snapshotDir(WVB_REPO);
      tried.push(`${s.cacheDir} (${WVB_REPO})`);
      return d;
    }
    return null;
  };
  const found = walk(source);
  if (found) return found;
  throw new WvbDataError(
    `WorldValuesBench release not found (looked in ${tried.length ? tried.join(', ') : 'no local data folder'}). ` +
      `Clone https://github.com/${WVB_REPO} into <data root>/${WVB_REPO} or set OLMO_WVB_DIR to the clone.`,
  );
}

// ---- the WVS Wave 7 CSV ----

export function wvsMissingError(tried: string[]): WvbDataError {
  return new WvbDataError(
    `World Values Survey Wave 7 data not found (looked for ${tried.join(', ')}). WorldValuesBench's human answers come from ` +
      `the WVS, whose terms forbid redistribution, so you must download them yourself: go to ${WVS_DOWNLOAD_URL}, ` +
      `fill in the form and download "WVS Cross-National Wave 7 csv" (the paper used v5.0; v6.0 is compatible), unzip it, ` +
      `and set OLMO_WVS_CSV=/path/to/WVS_Cross-National_Wave_7_csv_v5_0.csv (or put the .csv in the release folder).`,
  );
}

/** $OLMO_WVS_CSV, else a WVS_Cross-National_Wave_7*.csv in the release folder. */
export function findWvsCsv(releaseDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const tried: string[] = [];
  if (env.OLMO_WVS_CSV) {
    if (existsSync(env.OLMO_WVS_CSV)) return env.OLMO_WVS_CSV;
    tried.push(`OLMO_WVS_CSV=${env.OLMO_WVS_CSV} (no such file)`);
  } else tried.push('$OLMO_WVS_CSV (unset)');
  for (const d of [releaseDir, join(releaseDir, 'data')]) {
    tried.push(join(d, 'WVS_Cross-National_Wave_7*.csv'));
    try {
      const f = readdirSync(d).find((n) => /^WVS_Cross-National_Wave_7.*\.csv$/i.test(n));
      if (f) return join(d, f);
    } catch {
      // not a folder
    }
  }
  throw wvsMissingError(tried);
}

/** One CSV line → cells (double-quoted cells may hold the separator and "" escapes). */
export function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === '"') q = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Raw codes of the given columns for the given interviews, streamed (the full file is ~100k rows × 600 columns). */
export async function readWvsRows(
  path: string,
  participants: ReadonlySet<string>,
  columns: readonly string[],
): Promise<Map<string, Record<string, string>>> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let head: string[] | null = null;
  let sep = ',';
  let idx: number[] = [];
  let idCol = -1;
  let lineNo = 0;
  const out = new Map<string, Record<string, string>>();
  for await (const raw of rl) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (!head) {
      sep = [',', ';', '\t'].map((s) => [s, line.split(s).length] as const).sort((a, b) => b[1] - a[1])[0][0];
      head = splitCsvLine(line, sep).map((h) => h.trim());
      idCol = head.indexOf('D_INTERVIEW');
      if (idCol < 0)
        throw new WvbDataError(
          `${path}:1: no D_INTERVIEW column; is this the WVS Wave 7 cross-national CSV? (${WVS_DOWNLOAD_URL})`,
        );
      const missing = columns.filter((c) => !head!.includes(c));
      if (missing.length)
        throw new WvbDataError(`${path}:1: columns ${missing.join(', ')} are missing from the WVS CSV header`);
      idx = columns.map((c) => head!.indexOf(c));
      continue;
    }
    if (line === '') continue;
    const cells = splitCsvLine(line, sep);
    if (cells.length !== head.length)
      throw new WvbDataError(`${path}:${lineNo}: ${cells.length} cells, the header has ${head.length}`);
    const id = normalizeCode(cells[idCol]);
    if (id === WVB_DUPLICATE_INTERVIEW || !participants.has(id)) continue;
    out.set(id, Object.fromEntries(columns.map((c, j) => [c, cells[idx[j]].trim()])));
  }
  if (!head) throw new WvbDataError(`${path}: empty file`);
  return out;
}

/** data_preparation.py convert_to_int: "1.0" → "1". */
export function normalizeCode(v: string): string {
  const s = v.trim();
  if (/^[+-]?\d+$/.test(s)) return String(parseInt(s, 10));
  const f = Number(s);
  if (s !== '' && Number.isFinite(f) && Number.isInteger(f)) return String(f);
  return s;
}

/** An ordinal answer as the benchmark stores it: adjusted, negative codes (don't know, no answer, …) → null. */
export function ordinalAnswer(raw: string, question: string, adjustment: WvbRelease['adjustment']): number | null {
  let v = normalizeCode(raw);
  const adj = adjustment[question];
  if (adj && v in adj) v = adj[v];
  if (v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n)) return null;
  return n < 0 ? null : Math.trunc(n);
}

/** A demographic answer as text (codebook choices); null when missing (negative code or blank). */
export function demographicAnswer(
  raw: string,
  question: string,
  codebook: WvbRelease['codebook'],
  adjustment: WvbRelease['adjustment'],
): string | null {
  let v = normalizeCode(raw);
  const adj = adjustment[question];
  if (adj && v in adj) v = adj[v];
  if (v === '' || /^-\d+$/.test(v)) return null;
  return codebook[question]?.choices?.[v] ?? v;
}

export interface Participant {
  id: string;
  /** value answers (adjusted; null when missing) */
  values: Record<string, number | null>;
  /** demographic answers as text, in metadata order (missing ones left out) */
  demographics: { key: string; question: string; answer: string }[];
}

/** The probe's participants with their human answers and demographics, from the WVS CSV. */
export async function loadParticipants(
  release: WvbRelease,
  csvPath: string,
  demographicKeys: readonly string[],
): Promise<Map<string, Participant>> {
  const ids = new Set(release.probe.map((p) => p.participant));
  const valueQs = [...new Set(release.probe.map((p) => p.question))];
  const raw = await readWvsRows(csvPath, ids, [...new Set([...valueQs, ...demographicKeys])]);
  const out = new Map<string, Participant>();
  for (const id of ids) {
    const r = raw.get(id);
    if (!r) continue;
    const values = Object.fromEntries(valueQs.map((q) => [q, ordinalAnswer(r[q], q, release.adjustment)]));
    const demographics = demographicKeys.flatMap((k) => {
      const a = demographicAnswer(r[k], k, release.codebook, release.adjustment);
      return a === null ? [] : [{ key: k, question: release.metadata[k]?.question ?? k, answer: a }];
    });
    out.set(id, { id, values, demographics });
  }
  return out;
}

/** The demographic variables listed in the prompt: the three probe variables first, then the rest in metadata order. */
export function demographicKeys(meta: Record<string, QuestionMeta>, which: 'probe' | 'all'): string[] {
  if (which === 'probe') return [...PROBE_DEMOGRAPHICS];
  const rest = Object.keys(meta).filter(
    (k) => meta[k].use_case === 'demographic' && k !== 'D_INTERVIEW' && !PROBE_DEMOGRAPHICS.includes(k),
  );
  return [...PROBE_DEMOGRAPHICS, ...rest];
}
