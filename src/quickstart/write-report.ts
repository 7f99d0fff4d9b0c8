// Writes the quickstart report into the run folder: report.md (readable anywhere), report.html (self-contained,
// with charts) and report.json (the data both were rendered from, for tools). Each file is written atomically,
// so an interrupted run never leaves a half-written report behind.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../io/atomic.ts';
import type { ReportData } from './report-data.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';

export const REPORT_FILES = { markdown: 'report.md', html: 'report.html', json: 'report.json' } as const;

export function writeReport(runDir: string, data: ReportData): { markdown: string; html: string } {
  // Render both before writing anything, so a rendering error leaves the previous report untouched.
  const markdown = renderMarkdown(data);
  const html = renderHtml(data);
  mkdirSync(runDir, { recursive: true });
  writeTextAtomically(join(runDir, REPORT_FILES.json), `${JSON.stringify(data, null, 2)}\n`);
  writeTextAtomically(join(runDir, REPORT_FILES.markdown), markdown);
  writeTextAtomically(join(runDir, REPORT_FILES.html), html);
  return { markdown, html };
}
