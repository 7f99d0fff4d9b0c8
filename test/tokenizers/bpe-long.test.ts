// ByteBpe.mergeLong (the linear-memory merge of long pieces) against the quadratic merge loop it replaces for long
// pieces (kept as `mergeLinear`, the reference: lowest rank first, leftmost among equal ranks) and tiktoken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get_encoding } from 'tiktoken';
import { ByteBpe } from '../../src/tokenizers/bpe.ts';
import { dolma2Tokenizer } from '../../src/tokenizers/index.ts';
import { rng } from '../helpers.ts';
import { randomText } from './util.ts';

const bpe = dolma2Tokenizer().model;
const bin = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const cl100k = get_encoding('cl100k_base');

function randomOver(seed: number, alphabet: string, n: number): string {
  const r = rng(seed);
  const chars = [...alphabet];
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)];
  return s;
}

test('mergeLong equals the reference merge on random and adversarial cl100k pieces', () => {
  const cases: string[] = [
    'a'.repeat(2000),
    'a'.repeat(2001),
    'ab'.repeat(900),
    'aab'.repeat(700),
    '7'.repeat(1500),
    '='.repeat(1500),
    '-'.repeat(999) + '>',
    ' '.repeat(1200),
    '\n'.repeat(800),
    'x'.repeat(600) + 'yz'.repeat(400),
    'ﬀ'.repeat(500),
    '😀'.repeat(300),
    '👨‍👩‍👧'.repeat(120),
    '日本語'.repeat(300),
    'abcdefghijklmnopqrstuvwxyz'.repeat(60),
    'Supercalifragilisticexpialidocious'.repeat(40),
    'https://example.com/a/b/c?d=e&f=g#'.repeat(40),
  ];
  const alphabets = ['ab', 'abc', 'aaaaab', 'etaoinshrdlu', '0123456789', '=-_*#', 'ñéüß日本😀', 'аб日a😀1=\u0301'];
  for (let k = 0; k < 160; k++) cases.push(randomOver(k, alphabets[k % alphabets.length], 49 + ((k * 37) % 1500)));
  for (let k = 0; k < 40; k++) cases.push(randomText(1000 + k, 60 + k * 20));
  for (const s of cases) {
    const b = bin(s);
    assert.deepEqual(bpe.mergeLong(b), bpe.mergeLinear(b), `${JSON.stringify(s.slice(0, 20))}… (${b.length} bytes)`);
  }
});

test('mergeLong appends to the array it is given and handles empty and one-byte pieces', () => {
  const out = [7];
  assert.equal(bpe.mergeLong(bin('hello'), out), out);
  assert.deepEqual(out, [7, ...bpe.mergeLinear(bin('hello'))]);
  assert.deepEqual(bpe.mergeLong(''), []);
  assert.deepEqual(bpe.mergeLong('a'), [bpe.rankOf('a')]);
});

test('long pieces through the dolma2 tokenizer equal tiktoken (pieces above the cache limit go to mergeLong)', () => {
  const tok = dolma2Tokenizer();
  for (const s of [
    randomOver(5, 'abcdefghijklmnopqrstuvwxyz', 20000),
    'a'.repeat(30001),
    'q'.repeat(4097) + 'Z'.repeat(3),
    '+'.repeat(5000),
    randomOver(6, 'ßøåéñ', 6000),
  ]) {
    assert.deepEqual(tok.encode(s), Array.from(cl100k.encode(s, [], [])), `${s.slice(0, 10)}… (${s.length})`);
  }
  // The same long piece twice: nothing is cached, the second encoding is still right.
  const s = 'ab'.repeat(5000);
  assert.deepEqual(tok.encode(s), tok.encode(s));
});

/** A rank table over bytes a, b, c plus `extra` multi-byte tokens (rank = position after the 256 bytes). */
function table(extra: string[]): ByteBpe {
  const ranks = new Map<string, number>();
  for (let b = 0; b < 256; b++) ranks.set(String.fromCharCode(b), b);
  extra.forEach((t, i) => ranks.set(t, 256 + i));
  return new ByteBpe(ranks);
}

test('mergeLong on rank tables where a merge can lower the next rank, ties and long tokens', () => {
  // 'abc' ranks below 'bc', which ranks below 'ab': merging can create a pair of lower rank than the last one;
  // 'aa' and 'aaaa' give equal-rank overlaps that must go leftmost first.
  const tables = [
    table(['ab', 'bc', 'aa', 'aaaa', 'abc', 'ca', 'cab', 'abcab']),
    table(['bc', 'abc', 'ab', 'cc', 'ccc', 'cccc', 'ba', 'bab']),
    // A token longer than 255 bytes takes the wide part-length array.
    table([
      'ab',
      'abab',
      'abababab',
      'ab'.repeat(8),
      'ab'.repeat(16),
      'ab'.repeat(32),
      'ab'.repeat(64),
      'ab'.repeat(128),
    ]),
  ];
  for (const [t, bpeT] of tables.entries()) {
    for (let k = 0; k < 200; k++) {
      const s = k === 0 ? 'ab'.repeat(700) : randomOver(k + 100 * t, k % 2 ? 'abc' : 'aab', 49 + ((k * 53) % 900));
      assert.deepEqual(bpeT.mergeLong(s), bpeT.mergeLinear(s), `table ${t}: ${s.slice(0, 30)}… (${s.length})`);
    }
  }
  const wide = tables[2];
  // 300 'ab's: 128 + 128 + 32 + 8 + 4.
  const abs = [128, 128, 32, 8, 4].map((k) => wide.rankOf('ab'.repeat(k)));
  assert.deepEqual(wide.mergeLong('ab'.repeat(300)), abs);
});
