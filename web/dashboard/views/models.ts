// #/models: the checkpoint folders found (config.json + safetensors): architecture, size, dtype, bytes on disk and
// the memory a single-sequence inference needs, with links to the run they came from and to the chat playground.
import type { ModelsResponse, ModelSummary } from '../../../src/dashboard/api-types.ts';
import { h, link, problemBadge, table } from '../dom.ts';
import { formatBytes, formatNumber } from '../format.ts';
import { href, type Route } from '../router.ts';
import { loadView } from './load.ts';
import { problemText } from './runs.ts';

function shape(m: ModelSummary): string {
  const c = m.config;
  const parts = [
    c.layers !== null && c.hiddenSize !== null ? `${c.layers} × ${c.hiddenSize}` : null,
    c.heads !== null
      ? `${c.heads} heads${c.kvHeads !== null && c.kvHeads !== c.heads ? ` (${c.kvHeads} KV)` : ''}`
      : null,
    c.intermediateSize !== null ? `MLP ${c.intermediateSize}` : null,
    c.experts !== null ? `${c.experts} experts` : null,
    c.vocabSize !== null ? `vocab ${formatNumber(c.vocabSize)}` : null,
    c.maxPositionEmbeddings !== null ? `ctx ${formatNumber(c.maxPositionEmbeddings)}` : null,
  ];
  return parts.filter((p) => p !== null).join(' · ') || '—';
}

function modelRow(m: ModelSummary) {
  return [
    h('span', { 'data-model': m.id }, m.name),
    m.modelType ?? '—',
    shape(m),
    m.parameters === null ? '—' : formatNumber(m.parameters),
    m.dtype ?? '—',
    formatBytes(m.bytes),
    m.memory === null
      ? '—'
      : h(
          'span',
          {
            title: `weights ${formatBytes(m.memory.weightBytes)} + KV cache ${formatBytes(m.memory.kvBytesPerToken)}/token`,
          },
          formatBytes(m.memory.inferenceBytes),
        ),
    m.hasTokenizer ? 'yes' : 'no',
    m.runId === null ? '—' : link(href(['runs', m.runId]), 'run'),
    m.problems.length === 0 ? '' : h('span', {}, ...m.problems.map((p) => problemBadge(problemText(p)))),
  ];
}

export function modelsView(main: HTMLElement, route: Route): () => void {
  const spec = { title: 'Models', what: 'the models', url: '/api/models', ready: 'models' };
  return loadView<ModelsResponse>(main, spec, (res) => {
    const focus = route.query.get('focus');
    const head = ['Model', 'Type', 'Shape', 'Parameters', 'Dtype', 'On disk', 'Inference memory', 'Tokenizer', 'Run'];
    const rows = table([...head, 'Problems'], res.models.map(modelRow), { class: 'data', id: 'models-table' });
    if (focus !== null)
      rows
        .querySelector(`[data-model="${CSS.escape(focus)}"]`)
        ?.closest('tr')
        ?.classList.add('highlight');
    return [
      h('h1', {}, 'Models'),
      h(
        'p',
        { class: 'muted' },
        'Checkpoint folders under the roots. ',
        link('#/chat', 'Chat with the served model →'),
      ),
      res.models.length === 0
        ? h('p', { class: 'muted' }, 'No checkpoint folders (config.json + safetensors) under the roots.')
        : h('div', { class: 'table-wrap' }, rows),
    ];
  });
}
