// The embedded corpus: determinism, held-out questions, learnable facts, schemas, and a usable data config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  DataLoader,
  parseDataConfig,
  synthesize,
  validationBatches,
  type DpoRow,
  type GsmRow,
  type McRow,
  type RlvrRow,
  type SftRow,
  type SynthManifest,
  type World,
} from '../../src/data/index.ts';
import { QUESTIONS, STATEMENTS, RELATIONS, SYNTH_TOKENIZER_VOCAB_SIZE } from '../../src/data/synth/index.ts';
import { TokenFile } from '../../src/data/token-file.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-data-synth-'));
after(() => rmSync(root, { recursive: true, force: true }));
const A = join(root, 'a');
const B = join(root, 'b');
const C = join(root, 'c');
const D = join(root, 'd');
let manifest: SynthManifest;
let manifestD: SynthManifest;

before(async () => {
  manifest = await synthesize({ outDir: A, seed: 7, scale: 0.05, workers: 0, sequenceLength: 64 });
  await synthesize({ outDir: B, seed: 7, scale: 0.05, workers: 0, sequenceLength: 64 });
  await synthesize({ outDir: C, seed: 8, scale: 0.05, tokenize: false });
  manifestD = await synthesize({
    outDir: D,
    seed: 7,
    scale: 0.01,
    workers: 0,
    sequenceLength: 64,
    tokenizer: 'dolma2',
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}
const rows = <T>(dir: string, rel: string): T[] =>
  readFileSync(join(dir, rel), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
const texts = (dir: string, rels: string[]) =>
  rels
    .map((r) =>
      rows<{ text: string }>(dir, r)
        .map((d) => d.text)
        .join('\n'),
    )
    .join('\n');
const PRETRAIN = ['world-facts', 'stories', 'arithmetic', 'web-noise'].map((s) => `pretrain/${s}.jsonl`);
const ANNEAL = ['facts-hq', 'qa', 'math-worked'].map((s) => `anneal/${s}.jsonl`);

test('same seed → byte-identical output; another seed → another world and text', () => {
  const fa = listFiles(A)
    .map((f) => relative(A, f))
    .sort();
  assert.deepEqual(
    listFiles(B)
      .map((f) => relative(B, f))
      .sort(),
    fa,
  );
  assert.ok(fa.includes('synth.json') && fa.includes('tokens/pretrain/world-facts/part-00000.npy'));
  assert.ok(!fa.some((f) => f.includes('.tmp-')));
  for (const f of fa) assert.ok(readFileSync(join(A, f)).equals(readFileSync(join(B, f))), `${f} differs`);
  assert.notDeepEqual(readFileSync(join(C, 'world.json')), readFileSync(join(A, 'world.json')));
  assert.notDeepEqual(readFileSync(join(C, 'pretrain/stories.jsonl')), readFileSync(join(A, 'pretrain/stories.jsonl')));
});

test('test questions never occur in training text, while the facts they ask about are stated there', () => {
  const world = JSON.parse(readFileSync(join(A, 'world.json'), 'utf8')) as World;
  const pre = texts(A, PRETRAIN);
  const all = pre + '\n' + texts(A, ANNEAL);
  // No question template at all in the pretraining mix.
  for (const f of world.facts)
    assert.ok(!pre.includes(QUESTIONS[f.relation](f.subject)), `${f.id} question in pretraining`);
  const test_ = rows<McRow>(A, 'eval/synth_world/test.jsonl');
  const testFacts = world.facts.filter((f) => f.split === 'test');
  assert.equal(test_.length, testFacts.length);
  for (const r of test_) assert.ok(!all.includes(r.question), `test question in training text: ${r.question}`);
  // …but every test fact is stated in pretraining text (in a statement template), so it is learnable.
  for (const f of testFacts) {
    assert.ok(
      STATEMENTS[f.relation].some((t) => pre.includes(t(f.subject, f.object))),
      `${f.id} never stated`,
    );
  }
  // Train facts appear as anneal Q&A; test facts never do.
  const qa = texts(A, ['anneal/qa.jsonl']);
  assert.ok(
    world.facts
      .filter((f) => f.split === 'train')
      .some((f) => qa.includes(`${QUESTIONS[f.relation](f.subject)}\nAnswer: ${f.object}`)),
  );
  // Held-out word problems (GSM / RLVR / SFT test) never occur in training text.
  for (const r of rows<GsmRow>(A, 'eval/synth_gsm/test.jsonl')) assert.ok(!all.includes(r.question));
  for (const r of rows<RlvrRow>(A, 'rlvr/test.jsonl'))
    assert.ok(!all.includes(r.messages[0].content.split(' Show your work')[0]));
  const sftTrain = readFileSync(join(A, 'sft/train.jsonl'), 'utf8');
  for (const r of rows<GsmRow>(A, 'eval/synth_gsm/test.jsonl')) assert.ok(!sftTrain.includes(r.question));
});

test('every output follows its schema and answers are right', () => {
  const world = JSON.parse(readFileSync(join(A, 'world.json'), 'utf8')) as World;
  const byId = new Map(world.facts.map((f) => [f.id, f]));
  for (const rel of [
    'eval/synth_world/train.jsonl',
    'eval/synth_world/test.jsonl',
    'eval/synth_arith/train.jsonl',
    'eval/synth_arith/test.jsonl',
  ]) {
    const mc = rows<McRow>(A, rel);
    assert.ok(mc.length > 0);
    const ids = new Set<string>();
    for (const r of mc) {
      assert.deepEqual(Object.keys(r).sort(), ['answerKey', 'choices', 'id', 'question']);
      assert.ok(!ids.has(r.id));
      ids.add(r.id);
      assert.deepEqual(r.choices.label, ['A', 'B', 'C', 'D']);
      assert.equal(new Set(r.choices.text).size, 4, r.id);
      assert.ok(r.choices.label.includes(r.answerKey));
      const answer = r.choices.text[r.choices.label.indexOf(r.answerKey)];
      if (rel.includes('world')) assert.equal(answer, byId.get(r.id.slice('synth_world:'.length))!.object);
      else {
        const m = /^What is (\d+) ([-+*]) (\d+)\?$/.exec(r.question)!;
        const [a, b] = [Number(m[1]), Number(m[3])];
        assert.equal(Number(answer), m[2] === '+' ? a + b : m[2] === '-' ? a - b : a * b);
      }
    }
  }
  for (const rel of ['eval/synth_gsm/train.jsonl', 'eval/synth_gsm/test.jsonl']) {
    for (const r of rows<GsmRow>(A, rel)) assert.match(r.answer, /\n#### \d+$/);
  }
  for (const rel of ['sft/train.jsonl', 'sft/test.jsonl']) {
    for (const r of rows<SftRow>(A, rel)) {
      assert.ok(r.messages.length >= 2 && r.messages.length % 2 === 0);
      r.messages.forEach((m, i) => {
        assert.equal(m.role, i % 2 === 0 ? 'user' : 'assistant');
        assert.ok(typeof m.content === 'string' && m.content.length > 0);
      });
    }
  }
  for (const r of rows<DpoRow>(A, 'dpo/train.jsonl')) {
    assert.deepEqual(r.chosen[0], { role: 'user', content: r.prompt });
    assert.deepEqual(r.rejected[0], r.chosen[0]);
    assert.equal(r.chosen[1].role, 'assistant');
    assert.notEqual(r.chosen[1].content, r.rejected[1].content);
  }
  for (const r of rows<RlvrRow>(A, 'rlvr/train.jsonl')) {
    assert.equal(r.dataset, 'gsm8k');
    assert.match(r.ground_truth, /^\d+$/);
    assert.equal(r.messages.length, 1);
    assert.equal(r.messages[0].role, 'user');
  }
  for (const f of PRETRAIN.concat(ANNEAL, ['validation/pretrain.jsonl'])) {
    for (const d of rows<Record<string, unknown>>(A, f)) {
      assert.equal(typeof d.id, 'string');
      assert.equal(typeof d.text, 'string');
      assert.equal(typeof d.source, 'string');
    }
  }
  assert.equal(RELATIONS.length, 8);
});

test('manifest reports the unigram entropy, and the data config drives a two-stage loader', () => {
  const m = JSON.parse(readFileSync(join(A, 'synth.json'), 'utf8')) as SynthManifest;
  assert.deepEqual(m, manifest);
  const h = m.unigramEntropy!;
  assert.ok(h.nats > 3 && h.nats < Math.log(h.distinctTokens), `entropy ${h.nats}`);
  assert.ok(Math.abs(h.bits - h.nats / Math.LN2) < 1e-9);
  // Context helps: a bigram model already beats the unigram baseline on the validation split by a wide margin.
  const base = m.baselines!;
  assert.ok(Math.abs(base.unigramValidationNats - h.nats) < 0.5, JSON.stringify(base));
  assert.ok(base.bigramValidationNats < base.unigramValidationNats - 1, JSON.stringify(base));
  const cfg = parseDataConfig(JSON.parse(readFileSync(join(A, 'data-config.json'), 'utf8')), A);
  assert.deepEqual(
    cfg.stages.map((s) => s.name),
    ['pretrain', 'anneal'],
  );
  const loader = new DataLoader(cfg, { batchSize: 4 });
  assert.ok(
    loader.stage(1).sources.some((s) => s.repetition > 1),
    'the anneal up-samples a source',
  );
  const b = loader.nextBatch();
  assert.equal(b.tokens.length, 4 * 64);
  assert.equal(cfg.tokenizer, join(A, 'tokenizer'), 'the tokenizer folder resolves against the config');
  assert.ok(b.tokens.every((t) => t < m.tokenizer!.vocabSize));
  const val = [...validationBatches(cfg.validation!.paths, 64, 8)];
  assert.ok(val.length > 0);
  loader.close();
});

test('the synth tokenizer: trained on the corpus, loadable, small, and the one the token files use', () => {
  assert.deepEqual(manifest.tokenizer, { name: 'synth', path: 'tokenizer', vocabSize: SYNTH_TOKENIZER_VOCAB_SIZE });
  assert.equal(SYNTH_TOKENIZER_VOCAB_SIZE % 64, 0);
  const tok = loadTokenizer(join(A, 'tokenizer'));
  assert.equal(tok.vocabSize, SYNTH_TOKENIZER_VOCAB_SIZE);
  assert.equal(tok.eosToken, '<|endoftext|>');
  assert.equal(tok.padToken, '<|pad|>');
  assert.ok(tok.chatTemplate?.includes('<|assistant|>'));
  // The token files are this tokenizer's encoding of the documents, EOS after each, in uint16.
  const meta = JSON.parse(readFileSync(join(A, 'tokens/pretrain/stories/part-00000.json'), 'utf8'));
  assert.equal(meta.dtype, 'uint16');
  assert.equal(meta.tokenizer, 'tokenizer/tokenizer.json');
  assert.equal(meta.eos_token_id, tok.eosTokenId);
  const docs = rows<{ text: string }>(A, 'pretrain/stories.jsonl').slice(0, 5);
  const expected = docs.flatMap((d) => [...tok.encode(d.text), tok.eosTokenId!]);
  const tf = new TokenFile(join(A, 'tokens/pretrain/stories/part-00000.npy'));
  const got = new Uint32Array(expected.length);
  tf.read(0, expected.length, got);
  tf.close();
  assert.deepEqual([...got], expected);
  assert.equal(tok.decode(expected.slice(0, expected.indexOf(tok.eosTokenId!))), docs[0].text);
  // Far fewer tokens than bytes.
  const bytes = PRETRAIN.reduce(
    (a, f) => a + rows<{ text: string }>(A, f).reduce((b, d) => b + Buffer.byteLength(d.text), 0),
    0,
  );
  assert.ok(
    manifest.unigramEntropy!.tokens < 0.3 * bytes,
    `${manifest.unigramEntropy!.tokens} tokens for ${bytes} bytes`,
  );
  // Held-out text (test questions) still round-trips: byte-level BPE covers every string.
  for (const r of rows<McRow>(A, 'eval/synth_world/test.jsonl').slice(0, 20))
    assert.equal(tok.decode(tok.encode(r.question)), r.question);
});

test("tokenizer: 'dolma2' keeps OLMo 2's tokenizer", () => {
  assert.deepEqual(manifestD.tokenizer, { name: 'dolma2', vocabSize: 100278 });
  const files = listFiles(D).map((f) => relative(D, f));
  assert.ok(!files.some((f) => f.startsWith('tokenizer')));
  const cfg = JSON.parse(readFileSync(join(D, 'data-config.json'), 'utf8'));
  assert.equal(cfg.tokenizer, 'dolma2');
  const meta = JSON.parse(readFileSync(join(D, 'tokens/pretrain/stories/part-00000.json'), 'utf8'));
  assert.equal(meta.dtype, 'uint32');
  assert.equal(meta.tokenizer, 'dolma2');
  assert.ok(manifestD.unigramEntropy!.distinctTokens > 0);
});
