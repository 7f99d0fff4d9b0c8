// `olmo decontaminate`: Tülu 3 8-gram decontamination of training prompts against evaluation sets.
import {
  ChainSource,
  HfCacheSource,
  LocalHfFolderSource,
  type DatasetSource,
  decontaminate,
  writeDecontaminationReport,
  DEFAULT_DATASET_THRESHOLD,
  DEFAULT_MATCH_THRESHOLD,
  DEFAULT_NGRAM,
} from '../index.ts';
import { numberOption, parseCommandArgs, UsageError, type Command } from './command.ts';

const list = (values: string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');

export const decontaminateCommand: Command = {
  name: 'decontaminate',
  summary: 'find training prompts that overlap evaluation sets (Tülu 3 8-gram matching)',
  usage: `olmo decontaminate --train FILES --tasks IDS [options]

  --train FILES        training JSONL files (comma-separated or repeated); each line has "text" or
                       open-instruct "messages" (only user turns are compared)
  --tasks IDS          eval task ids whose splits are checked, e.g. gsm8k::olmes,drop::olmes,mmlu::olmes
  --data-dir DIR       datasets in the Hugging Face layout (<DIR>/<owner>/<name>/…); the hub cache is tried next
  --out FILE           write the training documents that are not flagged here (atomic)
  --report FILE        write the full report (flagged eval items, overlapping training documents) as JSON
  --ngram N            n-gram size (default ${DEFAULT_NGRAM})
  --threshold X        an eval item overlaps a training prompt when more than X of its tokens are covered by
                       shared n-grams (default ${DEFAULT_MATCH_THRESHOLD})
  --dataset-threshold X  a training file is contaminated for an eval set when more than X of the set's items
                       overlap it (default ${DEFAULT_DATASET_THRESHOLD})`,
  async run(argv) {
    const { values } = parseCommandArgs('decontaminate', {
      args: argv,
      options: {
        train: { type: 'string', multiple: true },
        tasks: { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        out: { type: 'string' },
        report: { type: 'string' },
        ngram: { type: 'string' },
        threshold: { type: 'string' },
        'dataset-threshold': { type: 'string' },
      },
    });
    const trainFiles = list(values.train);
    const tasks = list(values.tasks);
    if (trainFiles.length === 0) throw new UsageError('olmo decontaminate: --train FILES is required');
    if (tasks.length === 0) throw new UsageError('olmo decontaminate: --tasks IDS is required');
    const n = numberOption('decontaminate', 'ngram', values.ngram, { integer: true, min: 1 });
    const threshold = numberOption('decontaminate', 'threshold', values.threshold, { min: 0, max: 0.999999 });
    const datasetThreshold = numberOption('decontaminate', 'dataset-threshold', values['dataset-threshold'], {
      min: 0,
      max: 1,
    });
    const hub = new HfCacheSource();
    const source: DatasetSource = values['data-dir']
      ? new ChainSource([new LocalHfFolderSource(values['data-dir']), hub])
      : hub;
    const report = await decontaminate({
      trainFiles,
      tasks,
      source,
      n,
      threshold,
      datasetThreshold,
      ...(values.out ? { out: values.out } : {}),
      onProgress: ({ file, documents }) => process.stderr.write(`${file}: ${documents} documents\n`),
    });
    for (const s of report.evalSets) {
      process.stdout.write(
        `${s.set}: ${s.flagged}/${s.instances} items overlap training prompts (${(100 * s.fraction).toFixed(2)}%)\n`,
      );
    }
    for (const f of report.trainFiles) {
      const bad = Object.entries(f.perEvalSet)
        .filter(([, v]) => v.contaminated)
        .map(([k, v]) => `${k} ${(100 * v.fraction).toFixed(2)}%`);
      process.stdout.write(
        `${f.file}: ${f.flaggedDocuments}/${f.documents} documents flagged${bad.length ? `; contaminated (> ${100 * report.datasetThreshold}% of items) for ${bad.join(', ')}` : ''}\n`,
      );
    }
    if (report.filtered)
      process.stdout.write(
        `wrote ${report.filtered.kept} documents (${report.filtered.dropped} dropped) to ${report.filtered.path}\n`,
      );
    if (values.report) {
      writeDecontaminationReport(values.report, report);
      process.stdout.write(`report: ${values.report}\n`);
    }
    return 0;
  },
};
