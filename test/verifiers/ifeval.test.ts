// IFEval (Google registry, as in olmes): pass and fail examples for each of the 25 instruction types, the loose
// variants, strict vs loose, and kwargs errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildInstruction,
  countSentences,
  countWords,
  detectLanguage,
  INSTRUCTION_IDS,
  looseVariants,
  splitIntoSentences,
  verify,
  VerifierGroundTruthError,
  wordTokenize,
} from '../../src/verifiers/index.ts';

type Case = { kwargs: Record<string, unknown>; pass: string[]; fail: string[] };

const CASES: Record<string, Case> = {
  'keywords:existence': {
    kwargs: { keywords: ['apple', 'Banana'] },
    pass: ['I like APPLE and banana.', 'pineapple bananas'],
    fail: ['I like apple only.', ''],
  },
  'keywords:frequency': {
    kwargs: { keyword: 'cat', frequency: 2, relation: 'at least' },
    pass: ['Cat and cat.', 'cat cat cat', 'concatenate cat'],
    fail: ['one cat', 'dog dog'],
  },
  'keywords:forbidden_words': {
    kwargs: { forbidden_words: ['bad', 'evil'] },
    pass: ['This is good.', 'badge is fine', 'devilish'],
    fail: ['That was BAD.', 'pure evil!'],
  },
  'keywords:letter_frequency': {
    kwargs: { letter: 'z', let_frequency: 3, let_relation: 'less than' },
    pass: ['buzz', 'no such letter'],
    fail: ['ZzZ', 'jazz pizzazz'],
  },
  'language:response_language': {
    kwargs: { language: 'fr' },
    pass: ["Je pense que c'est une très bonne idée pour nous et pour les enfants.", '12345 !!!'],
    fail: ['I think this is a very good idea for us and for the children.'],
  },
  'length_constraints:number_sentences': {
    kwargs: { num_sentences: 3, relation: 'less than' },
    pass: ['One sentence. Two sentences.', 'Dr. Smith arrived. He left.', 'no punctuation at all'],
    fail: ['One. Two. Three.', 'A! B? C.'],
  },
  'length_constraints:number_paragraphs': {
    kwargs: { num_paragraphs: 3 },
    pass: ['a\n***\nb\n***\nc', '***\na ***b***c\n***'],
    fail: ['a\n***\nb', 'a\n***\n\n***\nb\n***\nc', 'a\n\nb\n\nc'],
  },
  'length_constraints:number_words': {
    kwargs: { num_words: 5, relation: 'at least' },
    pass: ['one two three four five', "it's a well-known fact"],
    fail: ['one two three four', '... --- !!!'],
  },
  'length_constraints:nth_paragraph_first_word': {
    kwargs: { num_paragraphs: 2, nth_paragraph: 2, first_word: 'Then' },
    pass: ['First part.\n\nthen second.', 'First.\n\n"Then," he said.'],
    // an empty piece is not counted, but the nth piece of the raw split is checked (as IFEval does)
    fail: [
      'First.\n\n\n\nThen.',
      'First.\n\nAnd then.',
      'First.\n\nThen.\n\nThird.',
      'Only one paragraph. Then.',
      'First.\n\nThenceforth.',
    ],
  },
  'detectable_content:number_placeholders': {
    kwargs: { num_placeholders: 2 },
    pass: ['Dear [name], at [address].', '[a][b]'],
    fail: ['Dear [name].', 'Dear [na\nme] and [x'],
  },
  'detectable_content:postscript': {
    kwargs: { postscript_marker: 'P.S.' },
    pass: ['Hello.\nP.S. bye', 'hello p. s. bye', 'text P.S.'],
    fail: ['Hello. PS bye', 'Hello.'],
  },
  'detectable_format:number_bullet_lists': {
    kwargs: { num_bullets: 2 },
    pass: ['* one\n* two', 'Intro:\n- one\n  * two\nend'],
    fail: ['* one\n* two\n- three', '**bold** only\n* one', 'no bullets'],
  },
  'detectable_format:constrained_response': {
    kwargs: {},
    pass: ['My answer is yes.', 'Well... My answer is maybe. Because.'],
    fail: ['My answer is yes', 'Yes.'],
  },
  'detectable_format:number_highlighted_sections': {
    kwargs: { num_highlights: 2 },
    pass: ['*one* and *two*', '**bold** and *it*'],
    fail: ['*one* only', '**bold** counts once', '** ** and * *', '*across\nlines*'],
  },
  'detectable_format:multiple_sections': {
    kwargs: { section_spliter: 'Section', num_sections: 2 },
    pass: ['Section 1\nfoo\nSection 2\nbar', 'Section 1 a Section 2 b Section 3 c'],
    fail: ['Section 1\nfoo', 'SECTION 1 a SECTION 2 b', 'Section A\nSection B'],
  },
  'detectable_format:json_format': {
    kwargs: {},
    pass: ['{"a": 1}', '```json\n{"a": [1, 2]}\n```', '  [1, 2, 3]  ', '{"x": NaN}'],
    fail: ['{"a": 1', 'Here is JSON: {"a": 1}', "{'a': 1}"],
  },
  'detectable_format:title': {
    kwargs: {},
    pass: ['<<My Poem>>\nRoses...', 'text <<a>> text'],
    fail: ['<<>>', '<<   >>', '<<split\ntitle>>', 'No title'],
  },
  'combination:two_responses': {
    kwargs: {},
    pass: ['First answer.\n******\nSecond answer.', '******\nA\n******\nB\n'],
    fail: ['Same.\n******\nSame.', 'A\n******\nB\n******\nC', 'A\n******\n\n******\nB', 'only one'],
  },
  'combination:repeat_prompt': {
    kwargs: { prompt_to_repeat: 'Write a poem about cats.' },
    pass: ['Write a poem about cats. Cats are...', '  write a POEM about cats.\nCats...'],
    fail: ['Sure! Write a poem about cats.', 'Write a poem about dogs.'],
  },
  'startend:end_checker': {
    kwargs: { end_phrase: 'Any other questions?' },
    pass: ['Done. Any other questions?', 'Done. any other questions?  \n', '"Done. Any other questions?"'],
    fail: ['Any other questions? Thanks.', 'Done.'],
  },
  'startend:quotation': {
    kwargs: {},
    pass: ['"hello"', '  "a b c"\n'],
    fail: ['"', 'hello', '"hello'],
  },
  'change_case:capital_word_frequency': {
    kwargs: { capital_frequency: 2, capital_relation: 'at least' },
    pass: ['THIS is VERY important', "I DON'T know", 'U.S. and NASA'],
    fail: ['This is Very important', 'ONE only'],
  },
  'change_case:english_capital': {
    kwargs: {},
    pass: ['THIS IS ALL CAPITALS AND IT IS IN ENGLISH.', '123 HELLO THERE, HOW ARE YOU?'],
    fail: ['THIS IS mostly CAPITALS.', '12345', 'CECI EST UNE TRÈS BONNE IDÉE POUR LES ENFANTS ET POUR NOUS.'],
  },
  'change_case:english_lowercase': {
    kwargs: {},
    pass: ['this is all lower case and it is english.', 'hello there, how are you?'],
    fail: ['This is not.', '12345', 'ceci est une très bonne idée pour les enfants et pour nous.'],
  },
  'punctuation:no_comma': {
    kwargs: {},
    pass: ['No commas here.', 'Full-width \uff0c is not an ASCII comma'],
    fail: ['One, two.', ','],
  },
};

describe('IFEval instructions: every type has pass and fail cases', () => {
  it('covers all 25 instruction ids', () => {
    assert.equal(INSTRUCTION_IDS.length, 25);
    assert.deepEqual([...INSTRUCTION_IDS].sort(), Object.keys(CASES).sort());
  });
  for (const [id, c] of Object.entries(CASES)) {
    it(id, () => {
      const check = buildInstruction(id, c.kwargs);
      for (const p of c.pass) assert.equal(check(p), true, `should pass: ${JSON.stringify(p)}`);
      for (const f of c.fail) assert.equal(check(f), false, `should fail: ${JSON.stringify(f)}`);
    });
  }
});

describe('IFEval relations', () => {
  it('"less than" and "at least" are strict/non-strict', () => {
    const lt = buildInstruction('length_constraints:number_words', { num_words: 3, relation: 'less than' });
    const ge = buildInstruction('length_constraints:number_words', { num_words: 3, relation: 'at least' });
    assert.equal(lt('a b'), true);
    assert.equal(lt('a b c'), false);
    assert.equal(ge('a b c'), true);
    assert.equal(ge('a b'), false);
  });
});

describe('IFEval utilities', () => {
  it('counts words as \\w+ runs', () => {
    assert.equal(countWords("it's a well-known fact"), 6);
    assert.equal(countWords('naïve café 東京'), 3);
  });
  it('counts sentences Punkt-like', () => {
    assert.equal(countSentences('Hello world. This is it!'), 2);
    assert.equal(countSentences('Mr. Smith went to Washington. He stayed.'), 2);
    assert.equal(countSentences('It costs 3.50 dollars. Ok.'), 2);
    assert.equal(countSentences('J. R. R. Tolkien wrote books.'), 1);
    assert.equal(countSentences('Wait... what? Yes.'), 2);
    assert.equal(countSentences(''), 0);
  });
  it('splits sentences like IFEval split_into_sentences', () => {
    assert.deepEqual(splitIntoSentences('Mr. Smith is here. He said hi! Ok?'), [
      'Mr. Smith is here.',
      'He said hi!',
      'Ok?',
    ]);
  });
  it('tokenises words nltk-like', () => {
    assert.deepEqual(wordTokenize("I DON'T know, (really)."), ['I', 'DO', "N'T", 'know', ',', '(', 'really', ')', '.']);
  });
  it('detects languages heuristically', () => {
    const samples: Record<string, string> = {
      en: 'The weather is nice today and we are going to the park with the children.',
      es: 'El tiempo es muy bueno hoy y vamos a ir al parque con los niños.',
      pt: 'O tempo está muito bom hoje e nós vamos ao parque com as crianças, não é?',
      fr: "Le temps est très beau aujourd'hui et nous allons au parc avec les enfants.",
      de: 'Das Wetter ist heute schön und wir gehen mit den Kindern in den Park.',
      it: 'Il tempo è molto bello oggi e andiamo al parco con i bambini, non è vero?',
      ru: 'Сегодня хорошая погода, и мы идём в парк с детьми, это было бы хорошо.',
      uk: 'Сьогодні гарна погода, і ми йдемо в парк з дітьми, це добре.',
      hi: 'आज मौसम अच्छा है और हम बच्चों के साथ पार्क में जा रहे हैं।',
      ar: 'الطقس جميل اليوم ونحن ذاهبون إلى الحديقة مع الأطفال.',
      fa: 'امروز هوا خوب است و ما با بچه‌ها به پارک می‌رویم.',
      ja: '今日は天気が良いので、子供たちと公園に行きます。',
      ko: '오늘은 날씨가 좋아서 아이들과 공원에 갑니다.',
      th: 'วันนี้อากาศดีและเราจะไปสวนสาธารณะกับเด็กๆ',
      vi: 'Hôm nay thời tiết đẹp và chúng tôi sẽ đi công viên với các con.',
      bn: 'আজ আবহাওয়া ভালো এবং আমরা বাচ্চাদের সাথে পার্কে যাচ্ছি।',
      sw: 'Leo hali ya hewa ni nzuri na tunakwenda kwenye bustani pamoja na watoto wetu kwa sababu ni siku nzuri sana.',
    };
    for (const [lang, text] of Object.entries(samples)) assert.equal(detectLanguage(text), lang, text);
    assert.equal(detectLanguage('12345 ... !!!'), null);
  });
});

describe('IFEval strict and loose (olmes)', () => {
  it('builds the 8 loose variants', () => {
    const v = looseVariants('Sure!\n*body*\nBye');
    assert.equal(v.length, 8);
    assert.deepEqual(v, [
      'Sure!\n*body*\nBye',
      'Sure!\nbody\nBye',
      '*body*\nBye',
      'Sure!\n*body*',
      '*body*',
      'body\nBye',
      'Sure!\nbody',
      'body',
    ]);
  });
  const row = {
    instruction_id_list: ['startend:quotation', 'punctuation:no_comma'],
    kwargs: [{}, {}],
    prompt: 'Wrap in quotes without commas.',
  };
  it('an intro line fails strict but passes loose', () => {
    const out = 'Here you go\n"A reply without any comma"';
    const strict = verify('ifeval_strict', out, row);
    const loose = verify('ifeval_loose', out, row);
    assert.deepEqual(strict.details['followList'], [false, true]);
    assert.equal(strict.verified, false);
    assert.equal(strict.score, 0.5);
    assert.equal(loose.verified, true);
    assert.equal(loose.score, 1);
  });
  it('markdown asterisks only pass loose', () => {
    const r = {
      instruction_id_list: ['detectable_format:title'],
      kwargs: [{}],
    };
    assert.equal(verify('ifeval_strict', '**<<Title>>** text', r).verified, true);
    const ends = {
      instruction_id_list: ['startend:end_checker'],
      kwargs: [{ end_phrase: 'Is there anything else I can help with?' }],
    };
    assert.equal(verify('ifeval_strict', 'Done. **Is there anything else I can help with?**', ends).verified, false);
    assert.equal(verify('ifeval_loose', 'Done. **Is there anything else I can help with?**', ends).verified, true);
  });
  it('a blank response follows nothing', () => {
    assert.equal(verify('ifeval_loose', '   \n ', row).score, 0);
  });
  it('accepts the HF dataset form: every kwarg key present, unused ones null; JSON strings', () => {
    const hf = {
      instruction_id_list: ['length_constraints:number_words'],
      kwargs: [{ num_words: 2, relation: 'at least', keywords: null, language: null }],
    };
    assert.equal(verify('ifeval_strict', 'two words', hf).verified, true);
    assert.equal(verify('ifeval_strict', 'two words', JSON.stringify(hf)).verified, true);
  });
  it('ground-truth errors are clear', () => {
    const bad = (gt: unknown, re: RegExp): void =>
      assert.throws(
        () => verify('ifeval_strict', 'x', gt),
        (e: unknown) => e instanceof VerifierGroundTruthError && re.test(e.message),
      );
    bad(
      { instruction_id_list: ['nope:x'], kwargs: [{}] },
      /unknown IFEval instruction id 'nope:x'.*keywords:existence/,
    );
    bad(
      { instruction_id_list: ['length_constraints:number_words'], kwargs: [{ num_words: 3, relation: 'about' }] },
      /relation.*'less than', 'at least'.*about/,
    );
    bad({ instruction_id_list: ['length_constraints:number_words'], kwargs: [{ relation: 'at least' }] }, /num_words/);
    bad({ instruction_id_list: ['punctuation:no_comma'], kwargs: [{ foo: 1 }] }, /takes no kwargs, got 'foo'/);
    bad({ instruction_id_list: ['punctuation:no_comma'], kwargs: [{}, {}] }, /one entry per instruction/);
    bad({ instruction_id_list: [] }, /non-empty list/);
    bad('not json', /neither JSON nor a Python literal/);
    bad(
      {
        instruction_id_list: ['length_constraints:nth_paragraph_first_word'],
        kwargs: [{ num_paragraphs: 2, nth_paragraph: 3, first_word: 'a' }],
      },
      /exceeds/,
    );
  });
});

describe('ifeval (open-instruct IFEvalVerifier, IFEvalG format)', () => {
  const gt = { instruction_id: ['punctuation:no_comma', 'change_case:english_lowercase'], kwargs: [null, null] };
  it('scores the fraction of constraints met, verified when all are', () => {
    assert.deepEqual(
      [
        verify('ifeval', 'all lower case words here and nothing else', gt).score,
        verify('ifeval', 'all lower case words here and nothing else', gt).verified,
      ],
      [1, true],
    );
    const half = verify('ifeval', 'Upper, and a comma', gt);
    assert.equal(half.score, 0);
    assert.equal(verify('ifeval', 'has a comma, but lower case and english words', gt).score, 0.5);
  });
  it('removes a thinking section first', () => {
    assert.equal(verify('ifeval', '<think>Hmm, OK</think>all lower case words here and nothing else', gt).score, 1);
  });
  it('accepts the stringified Python-literal list form', () => {
    const s = "[{'instruction_id': ['punctuation:no_comma'], 'kwargs': [None]}]";
    assert.equal(verify('ifeval', 'no comma here', s).verified, true);
    assert.equal(verify('ifeval', 'a, b', s).verified, false);
  });
  it('empty output scores 0', () => {
    assert.equal(verify('ifeval', '', gt).score, 0);
    assert.equal(verify('ifeval', '<think>x</think>', gt).score, 0);
  });
});
