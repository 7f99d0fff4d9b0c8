// Conversations → (input ids, labels) with open-instruct's SFT masking (open_instruct/finetune.py
// `encode_sft_example`, https://github.com/allenai/open-instruct): labels are the token ids on
// assistant tokens (content and EOS) and −100 everywhere else (system and user turns, the `<|assistant|>\n`
// prompt, the newline after a non-final assistant EOS). A conversation longer than the maximum length is
// dropped by default — never silently truncated; open-instruct's rule (cut at max length, then drop when no
// label is left) is available as `overlong: 'truncate'`, and either way the count is reported.
import { encodeChat, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';

export const IGNORE_INDEX = -100;

export interface EncodedExample {
  ids: number[];
  /** Same length as ids: the id where the token is trained on, IGNORE_INDEX elsewhere (not shifted). */
  labels: number[];
}

export type OverlongPolicy = 'drop' | 'truncate';

export interface EncodeOptions {
  maxLength: number;
  overlong?: OverlongPolicy;
  /** A Jinja chat template overriding the tokenizer's own (default: the tokenizer's, else the Tülu template). */
  template?: string;
}

export type EncodeOutcome =
  | { ok: true; example: EncodedExample; truncated: boolean; length: number }
  | { ok: false; reason: 'too_long' | 'no_labels'; length: number };

/** Encodes one conversation for training (see the file comment for the masking and the length rule). */
export function encodeForTraining(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  opts: EncodeOptions,
): EncodeOutcome {
  const enc = encodeChat(tokenizer, messages, opts.template ? { template: opts.template } : {});
  const length = enc.ids.length;
  let ids = enc.ids;
  let labels = enc.ids.map((id, i) => (enc.assistantMask[i] ? id : IGNORE_INDEX));
  let truncated = false;
  if (length > opts.maxLength) {
    if ((opts.overlong ?? 'drop') === 'drop') return { ok: false, reason: 'too_long', length };
    ids = ids.slice(0, opts.maxLength);
    labels = labels.slice(0, opts.maxLength);
    truncated = true;
  }
  // Only labels from position 1 on can be predicted (position 0 has no context).
  if (!labels.some((l, i) => i > 0 && l !== IGNORE_INDEX)) return { ok: false, reason: 'no_labels', length };
  return { ok: true, example: { ids, labels }, truncated, length };
}

/** Counts of what encoding did to a data set, for the run log and metrics. */
export interface EncodeReport {
  file: string;
  /** What a row is ('conversations', 'pairs'), for the report line. */
  unit: string;
  rows: number;
  kept: number;
  droppedTooLong: number;
  droppedNoLabels: number;
  truncated: number;
  /** file:line of each dropped or truncated row (the first 20). */
  examples: string[];
}

export function newEncodeReport(file: string, unit = 'conversations'): EncodeReport {
  return { file, unit, rows: 0, kept: 0, droppedTooLong: 0, droppedNoLabels: 0, truncated: 0, examples: [] };
}

/** Adds one outcome to a report. */
export function noteOutcome(report: EncodeReport, outcome: EncodeOutcome, where: string, maxLength: number): void {
  report.rows++;
  if (outcome.ok) {
    report.kept++;
    if (outcome.truncated) {
      report.truncated++;
      if (report.examples.length < 20)
        report.examples.push(`${where}: truncated from ${outcome.length} to ${maxLength} tokens`);
    }
    return;
  }
  if (outcome.reason === 'too_long') report.droppedTooLong++;
  else report.droppedNoLabels++;
  if (report.examples.length < 20) {
    report.examples.push(
      outcome.reason === 'too_long'
        ? `${where}: dropped, ${outcome.length} tokens > max length ${maxLength}`
        : `${where}: dropped, no assistant token to train on`,
    );
  }
}

export function formatEncodeReport(r: EncodeReport): string[] {
  const head =
    `${r.file}: ${r.kept}/${r.rows} ${r.unit} kept` +
    (r.droppedTooLong ? `, ${r.droppedTooLong} dropped as longer than the max length` : '') +
    (r.droppedNoLabels ? `, ${r.droppedNoLabels} dropped with no assistant tokens` : '') +
    (r.truncated ? `, ${r.truncated} truncated to the max length` : '');
  return [head, ...r.examples.map((e) => `  ${e}`)];
}
