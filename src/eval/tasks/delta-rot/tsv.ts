// TSV files as pandas writes them (`to_csv(sep="\t")`): a header line, fields separated by tabs, fields holding a
// tab, newline or quote wrapped in double quotes with quotes doubled. An unnamed first header cell (the pandas
// index) is named "Unnamed: 0", as pandas reads it back. Errors name the file and line.
import { readFileSync } from 'node:fs';
import type { Row } from '../../types.ts';

export class TsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TsvError';
  }
}

/** Rows of a TSV text; each row also records the 1-based line where it starts in `__line`. */
export function parseTsv(text: string, file = '<tsv>'): Row[] {
  const records: { fields: string[]; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const qLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new TsvError(`${file}:${qLine}: unterminated quoted field`);
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== '\t' && text[i] !== '\n' && text[i] !== '\r') {
          throw new TsvError(`${file}:${line}: unexpected character ${JSON.stringify(text[i])} after a closing quote`);
        }
      } else {
        while (i < n && text[i] !== '\t' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      fields.push(field);
      if (i < n && text[i] === '\t') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: startLine });
  }
  if (records.length === 0) throw new TsvError(`${file}: empty file (no header line)`);
  const header = records[0].fields.map((h, k) => (h === '' ? `Unnamed: ${k}` : h));
  const rows: Row[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      throw new TsvError(
        `${file}:${r.line}: ${r.fields.length} fields, but the header has ${header.length} (${header.join(', ')})`,
      );
    }
    const row: Row = { __line: r.line };
    header.forEach((h, k) => (row[h] = r.fields[k]));
    rows.push(row);
  }
  return rows;
}

export function readTsv(path: string): Row[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TsvError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseTsv(text, path);
}
