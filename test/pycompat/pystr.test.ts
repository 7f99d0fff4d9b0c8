import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pyCapitalize, pyLen, pyRstrip, pyStrip, utf8Length } from '../../src/pycompat/pystr.ts';

test('pyCapitalize matches Python 3.11 str.capitalize (values produced by CPython)', () => {
  const cases: [string, string][] = [
    ['hELLO wORLD', 'Hello world'],
    ['she THEN adds Sugar', 'She then adds sugar'],
    ['a knife', 'A knife'],
    ['', ''],
    ['x', 'X'],
    ['ßar', 'Ssar'],
    ['ǆungla', 'ǅungla'],
    ['ΑΣ ΑΣ', 'Ας ας'],
    ['ΣΑΣ', 'Σας'],
    ['İSTANBUL', 'İstanbul'],
    ['ﬁNE', 'Fine'],
    ['[title] Bob', '[title] bob'],
    ['1ST Place', '1st place'],
  ];
  for (const [input, expected] of cases) assert.equal(pyCapitalize(input), expected, JSON.stringify(input));
});

test('pyStrip uses Python whitespace, not JavaScript trim', () => {
  assert.equal(pyStrip(' \t\n x y \x1c\x85'), 'x y');
  assert.equal(pyStrip('\ufeffx\ufeff'), '\ufeffx\ufeff'); // BOM is not whitespace in Python
  assert.equal(pyRstrip('Answer: \n'), 'Answer:');
});

test('code-point length and UTF-8 bytes', () => {
  assert.equal(pyLen(' 😀é'), 3);
  assert.equal(' 😀é'.length, 4);
  assert.equal(utf8Length(' 😀é'), 1 + 4 + 2);
});
