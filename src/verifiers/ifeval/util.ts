// Text utilities of IFEval (`instructions_util.py`) and the stand-ins for its Python dependencies.
//
// - `countWords`: nltk `RegexpTokenizer(r"\w+")`, exactly (Unicode `\w`).
// - `splitIntoSentences`: IFEval's own regex sentence splitter, ported exactly.
// - `countSentences`: IFEval uses nltk's Punkt English model, which has no TypeScript port. This is a Punkt-like
//   heuristic: a sentence ends at `.`, `?` or `!` (runs, followed by closing quotes/brackets) followed by
//   whitespace, except after a known abbreviation or a single letter ("J. Smith"), and an ellipsis only before a
//   capitalised word; text after the last boundary counts as one more sentence. It agrees with Punkt on ordinary prose; it can differ on unusual abbreviations.
// - `wordTokenize`: nltk `word_tokenize` (Treebank) approximated: whitespace tokens, leading/trailing punctuation
//   split off, English contractions split ("DON'T" -> "DO", "N'T"); used only to count all-capital words.
// - `detectLanguage`: `langdetect` has no TypeScript port. A heuristic: the script decides for scripts that belong
//   to one language (Thai, Hangul, kana, Greek, Hebrew, Bengali, Tamil, Telugu, ...); Arabic-script, Cyrillic,
//   Devanagari and Latin text is told apart by characteristic letters and common function words. It returns an
//   ISO 639-1 code as langdetect does ("zh-cn" for Han without kana), or null when the text has no letters
//   (langdetect's LangDetectException).

import { PY_W, pyStrip } from '../py.ts';

const WORD_RE = new RegExp(`${PY_W}+`, 'gu');

/** IFEval `count_words`: number of `\w+` tokens. */
export function countWords(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(WORD_RE)) n++;
  return n;
}

const ALPHABETS = '([A-Za-z])';
const PREFIXES = '(Mr|St|Mrs|Ms|Dr)[.]';
const SUFFIXES = '(Inc|Ltd|Jr|Sr|Co)';
const STARTERS =
  '(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\\s|She\\s|It\\s|They\\s|Their\\s|Our\\s|We\\s|But\\s|However\\s|That\\s|This\\s|Wherever)';
const ACRONYMS = '([A-Z][.][A-Z][.](?:[A-Z][.])?)';
const WEBSITES = '[.](com|net|org|io|gov|edu|me)';
const DIGITS = '([0-9])';

/** IFEval `split_into_sentences`, ported line by line. */
export function splitIntoSentences(input: string): string[] {
  let text = ` ${input}  `;
  text = text.split('\n').join(' ');
  text = text.replace(new RegExp(PREFIXES, 'g'), '$1<prd>');
  text = text.replace(new RegExp(WEBSITES, 'g'), '<prd>$1');
  text = text.replace(new RegExp(`${DIGITS}[.]${DIGITS}`, 'g'), '$1<prd>$2');
  text = text.replace(/\.{2,}/g, (m) => `${'<prd>'.repeat(m.length)}<stop>`);
  if (text.includes('Ph.D')) text = text.split('Ph.D.').join('Ph<prd>D<prd>');
  text = text.replace(new RegExp(`\\s${ALPHABETS}[.] `, 'g'), ' $1<prd> ');
  text = text.replace(new RegExp(`${ACRONYMS} ${STARTERS}`, 'g'), '$1<stop> $2');
  text = text.replace(new RegExp(`${ALPHABETS}[.]${ALPHABETS}[.]${ALPHABETS}[.]`, 'g'), '$1<prd>$2<prd>$3<prd>');
  text = text.replace(new RegExp(`${ALPHABETS}[.]${ALPHABETS}[.]`, 'g'), '$1<prd>$2<prd>');
  text = text.replace(new RegExp(` ${SUFFIXES}[.] ${STARTERS}`, 'g'), ' $1<stop> $2');
  text = text.replace(new RegExp(` ${SUFFIXES}[.]`, 'g'), ' $1<prd>');
  text = text.replace(new RegExp(` ${ALPHABETS}[.]`, 'g'), ' $1<prd>');
  if (text.includes('\u201d')) text = text.split('.\u201d').join('\u201d.');
  if (text.includes('"')) text = text.split('."').join('".');
  if (text.includes('!')) text = text.split('!"').join('"!');
  if (text.includes('?')) text = text.split('?"').join('"?');
  text = text.split('.').join('.<stop>');
  text = text.split('?').join('?<stop>');
  text = text.split('!').join('!<stop>');
  text = text.split('<prd>').join('.');
  let sentences = text.split('<stop>').map((s) => pyStrip(s));
  if (sentences.length > 0 && sentences[sentences.length - 1] === '') sentences = sentences.slice(0, -1);
  return sentences;
}

/** Abbreviations Punkt's English model knows (a common subset), lower-case, without the final period. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'cf',
  'al',
  'inc',
  'ltd',
  'co',
  'corp',
  'no',
  'vol',
  'fig',
  'approx',
  'dept',
  'est',
  'gen',
  'gov',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'mt',
  'ft',
  'u.s',
  'u.k',
  'a.m',
  'p.m',
  'capt',
  'col',
  'lt',
  'sgt',
  'rev',
  'messrs',
  'ave',
  'blvd',
  'rd',
]);

/** Punkt-like sentence count (see the file comment). Linear in the text. */
export function countSentences(text: string): number {
  const t = pyStrip(text);
  if (t === '') return 0;
  const isWs = (c: string): boolean => /\s/u.test(c);
  let count = 0;
  // candidate boundaries: terminal punctuation run, optional closers, then whitespace
  const re = /([.?!]+)["'\u201d\u2019)\]]*(?=\s+(\S))/gu;
  let lastEnd = 0;
  for (const m of t.matchAll(re)) {
    const at = m.index!;
    const punct = m[1]!;
    const next = m[2]!;
    // the token just before the punctuation (scan back to whitespace, at most 64 characters)
    let k = at;
    while (k > lastEnd && k > at - 64 && !isWs(t[k - 1]!)) k--;
    const lastTok = t.slice(k, at);
    if (punct === '.') {
      const word = lastTok.replace(/^[("'\u201c\u2018[]+/u, '').toLowerCase();
      if (ABBREVIATIONS.has(word)) continue;
      if (/^\p{L}$/u.test(word)) continue; // initials ("J. Smith")
    } else if (/^\.{2,}$/.test(punct) && !/^\p{Lu}/u.test(next)) {
      continue; // an ellipsis ends a sentence only before a capitalised word
    }
    if (lastTok === '' && count > 0) {
      // only whitespace since the previous boundary: punctuation on its own does not make a sentence
      let j = at;
      while (j > lastEnd && isWs(t[j - 1]!)) j--;
      if (j === lastEnd) continue;
    }
    count++;
    lastEnd = at + m[0].length;
  }
  if (pyStrip(t.slice(lastEnd)) !== '') count++;
  return Math.max(count, 1);
}

const TRAIL_CHARS = new Set(Array.from(')"\'`\u201d\u2019]}>.,;:!?'));
const CONTRACTION = /^(.+?)((?:n't|'s|'ll|'re|'ve|'d|'m))$/iu;

/** Approximate nltk `word_tokenize` (see the file comment). */
export function wordTokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\s+/u)) {
    if (raw === '') continue;
    const lead = /^[("'`\u201c\u2018[{<]+/u.exec(raw)?.[0] ?? '';
    const body = raw.slice(lead.length);
    let tb = body.length;
    while (tb > 0 && TRAIL_CHARS.has(body[tb - 1]!)) tb--;
    const trail = body.slice(tb);
    let core = raw.slice(lead.length, raw.length - trail.length);
    for (const c of lead) out.push(c);
    const cm = core.length > 0 ? CONTRACTION.exec(core) : null;
    if (cm) {
      out.push(cm[1]!, cm[2]!);
      core = '';
    }
    if (core !== '') out.push(core);
    for (const c of trail) out.push(c);
  }
  return out;
}

// --- language detection -----------------------------------------------------------------------------------------

const STOPWORDS: Record<string, readonly string[]> = {
  en: [
    'the',
    'and',
    'is',
    'are',
    'of',
    'to',
    'in',
    'that',
    'it',
    'you',
    'with',
    'for',
    'this',
    'was',
    'on',
    'be',
    'have',
    'not',
    'what',
    'a',
    'an',
    'i',
    'my',
    'we',
    'they',
    'your',
  ],
  es: [
    'el',
    'la',
    'los',
    'las',
    'de',
    'que',
    'y',
    'en',
    'un',
    'una',
    'es',
    'por',
    'con',
    'para',
    'como',
    'más',
    'pero',
    'su',
    'del',
    'se',
    'lo',
    'muy',
    'también',
    'está',
  ],
  pt: [
    'o',
    'a',
    'os',
    'as',
    'de',
    'que',
    'e',
    'em',
    'um',
    'uma',
    'é',
    'não',
    'com',
    'para',
    'do',
    'da',
    'dos',
    'das',
    'mais',
    'se',
    'por',
    'mas',
    'muito',
    'também',
    'você',
    'está',
  ],
  fr: [
    'le',
    'la',
    'les',
    'de',
    'des',
    'et',
    'est',
    'un',
    'une',
    'que',
    'qui',
    'dans',
    'pour',
    'pas',
    'sur',
    'avec',
    'ce',
    'il',
    'elle',
    'nous',
    'vous',
    'du',
    'au',
    'sont',
    'très',
    'mais',
  ],
  de: [
    'der',
    'die',
    'das',
    'und',
    'ist',
    'nicht',
    'ein',
    'eine',
    'zu',
    'den',
    'mit',
    'sich',
    'des',
    'auf',
    'für',
    'im',
    'dem',
    'sie',
    'es',
    'ich',
    'wir',
    'auch',
    'sind',
    'von',
    'aber',
  ],
  it: [
    'il',
    'lo',
    'la',
    'gli',
    'le',
    'di',
    'che',
    'e',
    'è',
    'un',
    'una',
    'per',
    'non',
    'con',
    'del',
    'della',
    'sono',
    'anche',
    'più',
    'ma',
    'nel',
    'alla',
    'questo',
    'molto',
  ],
  nl: [
    'de',
    'het',
    'een',
    'en',
    'van',
    'is',
    'dat',
    'niet',
    'op',
    'te',
    'zijn',
    'voor',
    'met',
    'ook',
    'maar',
    'wij',
    'ik',
    'je',
    'er',
  ],
  pl: [
    'i',
    'w',
    'na',
    'nie',
    'z',
    'się',
    'do',
    'to',
    'że',
    'jest',
    'jak',
    'ale',
    'o',
    'co',
    'od',
    'po',
    'tak',
    'są',
    'dla',
    'czy',
    'jego',
    'być',
  ],
  fi: [
    'ja',
    'on',
    'ei',
    'että',
    'se',
    'hän',
    'oli',
    'ovat',
    'mutta',
    'kun',
    'tämä',
    'myös',
    'niin',
    'kuin',
    'jos',
    'vain',
    'minä',
    'sinä',
    'olen',
  ],
  sw: [
    'na',
    'ya',
    'wa',
    'kwa',
    'ni',
    'za',
    'la',
    'katika',
    'kuwa',
    'hii',
    'cha',
    'yake',
    'hiyo',
    'lakini',
    'pia',
    'sana',
    'watu',
    'kama',
    'ili',
  ],
  vi: [
    'và',
    'của',
    'là',
    'có',
    'không',
    'một',
    'những',
    'các',
    'được',
    'cho',
    'người',
    'này',
    'trong',
    'với',
    'đã',
    'để',
    'khi',
    'rất',
    'tôi',
  ],
  tr: [
    've',
    'bir',
    'bu',
    'da',
    'de',
    'için',
    'ile',
    'çok',
    'ne',
    'daha',
    'gibi',
    'olarak',
    'ama',
    'değil',
    'ben',
    'sen',
  ],
  id: [
    'dan',
    'yang',
    'di',
    'ini',
    'itu',
    'dengan',
    'untuk',
    'tidak',
    'dari',
    'dalam',
    'akan',
    'pada',
    'juga',
    'saya',
    'ada',
    'adalah',
  ],
  sv: [
    'och',
    'att',
    'det',
    'som',
    'en',
    'på',
    'är',
    'av',
    'för',
    'med',
    'till',
    'den',
    'inte',
    'har',
    'jag',
    'om',
    'ett',
  ],
  ru: [
    'и',
    'в',
    'не',
    'на',
    'что',
    'я',
    'с',
    'он',
    'как',
    'это',
    'по',
    'но',
    'из',
    'у',
    'за',
    'от',
    'так',
    'же',
    'все',
    'был',
    'его',
    'только',
    'мы',
  ],
  uk: [
    'і',
    'в',
    'не',
    'на',
    'що',
    'я',
    'з',
    'як',
    'це',
    'та',
    'до',
    'але',
    'від',
    'за',
    'так',
    'він',
    'ми',
    'є',
    'його',
    'у',
    'й',
  ],
  bg: [
    'и',
    'в',
    'не',
    'на',
    'че',
    'се',
    'да',
    'за',
    'от',
    'с',
    'по',
    'това',
    'е',
    'са',
    'като',
    'но',
    'той',
    'ще',
    'би',
    'има',
  ],
  hi: ['है', 'के', 'में', 'की', 'को', 'और', 'से', 'का', 'एक', 'यह', 'हैं', 'पर', 'था', 'भी', 'नहीं', 'लिए'],
  mr: ['आहे', 'आणि', 'या', 'हे', 'की', 'व', 'ते', 'होते', 'आहेत', 'म्हणून', 'त्या', 'मध्ये', 'नाही', 'पण', 'करून', 'केले'],
  ne: ['छ', 'र', 'को', 'मा', 'यो', 'हो', 'गर्न', 'पनि', 'थियो', 'छन्', 'भएको', 'लागि', 'गरेको', 'हुन्छ', 'तर', 'नेपाल'],
};

const SCRIPT_LANG: ReadonlyArray<readonly [RegExp, string]> = [
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Bengali}/u, 'bn'],
  [/\p{Script=Tamil}/u, 'ta'],
  [/\p{Script=Telugu}/u, 'te'],
  [/\p{Script=Kannada}/u, 'kn'],
  [/\p{Script=Malayalam}/u, 'ml'],
  [/\p{Script=Gujarati}/u, 'gu'],
  [/\p{Script=Gurmukhi}/u, 'pa'],
  [/\p{Script=Georgian}/u, 'ka'],
  [/\p{Script=Armenian}/u, 'hy'],
];

function scriptCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const scripts: ReadonlyArray<readonly [string, RegExp]> = [
    ['Latin', /\p{Script=Latin}/u],
    ['Cyrillic', /\p{Script=Cyrillic}/u],
    ['Arabic', /\p{Script=Arabic}/u],
    ['Devanagari', /\p{Script=Devanagari}/u],
    ['Han', /\p{Script=Han}/u],
    ['Kana', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
    ...SCRIPT_LANG.map(([re, l]) => [l, re] as const),
  ];
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    for (const [name, re] of scripts) {
      if (re.test(ch)) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        break;
      }
    }
  }
  return counts;
}

function byStopwords(words: string[], langs: readonly string[]): string {
  let best = langs[0]!;
  let bestScore = -1;
  for (const l of langs) {
    const set = new Set(STOPWORDS[l] ?? []);
    let s = 0;
    for (const w of words) if (set.has(w)) s++;
    if (s > bestScore) {
      best = l;
      bestScore = s;
    }
  }
  return best;
}

/** Heuristic language detection (see the file comment). Null when the text has no letters. */
export function detectLanguage(text: string): string | null {
  const sample = text.length > 20000 ? text.slice(0, 20000) : text;
  const counts = scriptCounts(sample);
  if (counts.size === 0) return null;
  const [script] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const words = sample.toLowerCase().match(/[\p{L}\p{M}]+/gu) ?? [];
  switch (script) {
    case 'Han':
      return (counts.get('Kana') ?? 0) > 0 ? 'ja' : 'zh-cn';
    case 'Kana':
      return 'ja';
    case 'Arabic': {
      if (/[ٹڈڑںےھ]/u.test(sample)) return 'ur';
      if (/[پچژگ]/u.test(sample) || /[یک]/u.test(sample)) return 'fa';
      return 'ar';
    }
    case 'Cyrillic': {
      if (/[іїєґ]/iu.test(sample)) return 'uk';
      if (/[ыэё]/iu.test(sample)) return 'ru';
      return byStopwords(words, ['ru', 'bg', 'uk']);
    }
    case 'Devanagari':
      return byStopwords(words, ['hi', 'mr', 'ne']);
    case 'Latin': {
      if (/[ơưđăạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/iu.test(sample)) return 'vi';
      return byStopwords(words, ['en', 'es', 'pt', 'fr', 'de', 'it', 'nl', 'pl', 'fi', 'sw', 'tr', 'id', 'sv']);
    }
    default:
      return script;
  }
}
