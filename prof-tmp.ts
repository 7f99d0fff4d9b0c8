import { verify } from './src/posttrain/verifiers/index.ts';
import { INSTRUCTION_IDS } from './src/posttrain/verifiers/index.ts';
const big: Record<string,string> = { minerva: 'Final Answer: The final answer is '.repeat(30000), text: '\\text{'.repeat(150000), ones: '1'.repeat(1_000_000), dollars: '$x'.repeat(300000),
  boxed: '\\boxed{'.repeat(100000) + 'a'.repeat(100000), stars: '* '.repeat(300000), sent: 'a. '.repeat(300000), frac: '\\frac'.repeat(150000), answeris: 'the answer is '.repeat(70000), commas: '1,'.repeat(400000),
  nl: 'x\n'.repeat(300000), para: '***\n'.repeat(200000), ws: ' '.repeat(1_000_000) + 'a', lt: '<<'.repeat(300000), sq: '['.repeat(500000), ps: 'p. '.repeat(300000), caps: 'A '.repeat(300000), six: '******'.repeat(100000) };
const KW: Record<string, Record<string, unknown>> = {
  'keywords:existence': { keywords: ['zz'] }, 'keywords:frequency': { keyword: 'a', frequency: 2, relation: 'at least' },
  'keywords:forbidden_words': { forbidden_words: ['zz'] }, 'keywords:letter_frequency': { letter: 'a', let_frequency: 2, let_relation: 'less than' },
  'language:response_language': { language: 'en' }, 'length_constraints:number_sentences': { num_sentences: 2, relation: 'at least' },
  'length_constraints:number_paragraphs': { num_paragraphs: 2 }, 'length_constraints:number_words': { num_words: 3, relation: 'less than' },
  'length_constraints:nth_paragraph_first_word': { num_paragraphs: 2, nth_paragraph: 1, first_word: 'x' }, 'detectable_content:number_placeholders': { num_placeholders: 1 },
  'detectable_content:postscript': { postscript_marker: 'P.P.S' }, 'detectable_format:number_bullet_lists': { num_bullets: 1 },
  'detectable_format:number_highlighted_sections': { num_highlights: 1 }, 'detectable_format:multiple_sections': { section_spliter: 'SECTION', num_sections: 1 },
  'combination:repeat_prompt': { prompt_to_repeat: 'x' }, 'startend:end_checker': { end_phrase: 'x' }, 'change_case:capital_word_frequency': { capital_frequency: 1, capital_relation: 'at least' } };
for (const id of INSTRUCTION_IDS) { const row: string[] = []; for (const [k, s] of Object.entries(big)) { const t0 = performance.now(); verify('ifeval_loose', s, { instruction_id_list: [id], kwargs: [KW[id] ?? {}] }); const ms = performance.now() - t0; if (ms > 300) row.push(`${k}=${ms.toFixed(0)}`); } if (row.length) console.log(id, row.join(' ')); }
console.log('done');
