// The dashboard web app's pure modules, in Node: server-sent event parsing, hash routes, which charts a run's
// metrics rows call for, the MoE expert-load shares and number formatting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNumber, formatP } from '../../web/dashboard/format.ts';
import { heatColor } from '../../web/dashboard/heat.ts';
import { chartGroups, expertLoadSeries, noteTokens, seriesPoints } from '../../web/dashboard/metrics.ts';
import { href, parseHash } from '../../web/dashboard/router.ts';
import { parseSse, readSse, type SseEvent } from '../../web/dashboard/sse.ts';

test('parseSse splits complete events, keeps the unfinished rest, reads event names and multi-line data', () => {
  const { events, rest } = parseSse('data: {"a":1}\n\n: comment\nevent: error\ndata: x\ndata: y\n\ndata: par');
  assert.deepEqual(events, [
    { event: 'message', data: '{"a":1}' },
    { event: 'error', data: 'x\ny' },
  ]);
  assert.equal(rest, 'data: par');
  assert.deepEqual(parseSse('data: [DONE]\r\n\r\n').events, [{ event: 'message', data: '[DONE]' }]);
});

test('readSse delivers events split across arbitrary chunk boundaries, the last one without a blank line', async () => {
  const text = 'data: one\n\nevent: rows\ndata: two\n\ndata: three';
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.subarray(i, i + 5));
      c.close();
    },
  });
  const got: SseEvent[] = [];
  await readSse(body, (e) => got.push(e));
  assert.deepEqual(got, [
    { event: 'message', data: 'one' },
    { event: 'rows', data: 'two' },
    { event: 'message', data: 'three' },
  ]);
});

test('hash routes decode their segments and query, and href encodes them back', () => {
  const route = parseHash('#/runs/a%2Fb?compare=x,y&x=tokens');
  assert.deepEqual(route.segments, ['runs', 'a/b']);
  assert.equal(route.query.get('compare'), 'x,y');
  assert.equal(href(['runs', 'a/b'], { x: 'tokens', compare: '' }), '#/runs/a%2Fb?x=tokens');
  assert.deepEqual(parseHash('').segments, []);
  assert.deepEqual(parseHash('#/runs/%E0%A4%A').segments, ['runs', '%E0%A4%A'], 'a malformed escape is kept as is');
});

test('chartGroups: the known charts present, then one chart per other numeric field; axes are not charted', () => {
  const rows = [
    { step: 1, epoch: 0, tokens: 10, lr: 1e-3, loss: 2, chosen_reward: 0.1, reward_margin: 0.2, pg_clip: 0.5 },
    { step: 1, val_loss: 2.5, stage: 'pretrain' },
  ];
  const groups = chartGroups(rows);
  assert.deepEqual(
    groups.map((g) => [g.id, g.keys]),
    [
      ['loss', ['loss', 'val_loss']],
      ['lr', ['lr']],
      ['dpo_rewards', ['chosen_reward', 'reward_margin']],
      ['m-pg_clip', ['pg_clip']],
    ],
  );
  assert.equal(groups.at(-1)!.minor, true);
  assert.deepEqual(
    chartGroups([{ step: 1, expert_load: [[1, 3]] }]).map((g) => g.id),
    ['expert_load'],
  );
});

test('against tokens, a validation row takes the token count of its step', () => {
  const rows = [
    { step: 1, tokens: 100, loss: 3 },
    { step: 2, tokens: 200, loss: 2 },
    { step: 2, val_loss: 2.5 },
    { step: 3, val_loss: 2.4 },
  ];
  const tokens = new Map<number, number>();
  noteTokens(rows, tokens);
  assert.deepEqual(seriesPoints(rows, 'val_loss', 'tokens', tokens), [{ x: 200, y: 2.5 }]);
  assert.deepEqual(seriesPoints(rows, 'loss', 'step', tokens), [
    { x: 1, y: 3 },
    { x: 2, y: 2 },
  ]);
});

test('expert load: counts summed over layers, as each expert’s share of the step’s routed tokens', () => {
  const series = expertLoadSeries(
    [
      {
        step: 1,
        expert_load: [
          [1, 3],
          [3, 1],
        ],
      },
      { step: 2, expert_load: [[0, 0]] },
      { step: 3, expert_load: [[2, 6]] },
    ],
    'step',
    new Map(),
  );
  assert.deepEqual(series, [
    {
      key: 'expert 0',
      points: [
        { x: 1, y: 0.5 },
        { x: 3, y: 0.25 },
      ],
    },
    {
      key: 'expert 1',
      points: [
        { x: 1, y: 0.5 },
        { x: 3, y: 0.75 },
      ],
    },
  ]);
});

test('numbers read the same everywhere: integers grouped, 4 significant digits, exponents trimmed', () => {
  assert.equal(formatNumber(94208), '94,208');
  assert.equal(formatNumber(0.22580645161290322), '0.2258');
  assert.equal(formatNumber(0.0008), '8e-4');
  assert.equal(formatNumber(0.00046866), '4.687e-4');
  assert.equal(formatNumber(null), '—');
  assert.equal(formatP(0.0001), '< 0.001');
  assert.equal(formatP(0.5), '0.500');
});

test('the heat map is linear in the log-prob: green at 0, yellow at -4, red at -8 and below', () => {
  assert.equal(heatColor(0), 'hsl(120, 85%, 85%)');
  assert.equal(heatColor(-4), 'hsl(60, 85%, 85%)');
  assert.equal(heatColor(-8), 'hsl(0, 85%, 85%)');
  assert.equal(heatColor(-100), 'hsl(0, 85%, 85%)');
});
