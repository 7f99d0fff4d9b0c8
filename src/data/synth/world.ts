// The small world behind the embedded corpus: countries with cities (one capital each), people who live in a city,
// have a job, a pet, a favourite colour and a best friend, and cities famous for something. Every fact is a
// (relation, subject, object) triple with several statement templates (used in pretraining text), a question
// template (never used in pretraining text) and a plain answer sentence.
//
// Facts are split into 'train' (few-shot rows, SFT, DPO, anneal Q&A) and 'test' (scored MC rows). All facts are
// stated in the pretraining corpus, in statement templates; a test question asks about a fact the model has read,
// but in a wording (the question template) that the pretraining text never uses, and the question string itself
// appears nowhere in any training text. That is what "held out" means for world facts here.
import { Rng } from '../random.ts';

const COUNTRY_POOL = [
  'Norland',
  'Estavia',
  'Marosa',
  'Keldor',
  'Veluna',
  'Drakmar',
  'Solvia',
  'Oranth',
  'Pelloria',
  'Quessa',
  'Brivania',
  'Lunmark',
  'Tessaly',
  'Gorvia',
  'Halvane',
  'Istria',
];
const CITY_POOL = [
  'Vell',
  'Harrow',
  'Dunmere',
  'Kestin',
  'Palo',
  'Brisk',
  'Corran',
  'Elm',
  'Fenwick',
  'Gale',
  'Holt',
  'Ivory',
  'Jarrow',
  'Kettle',
  'Lorn',
  'Mistral',
  'Nettle',
  'Oakridge',
  'Pine',
  'Quarry',
  'Ravel',
  'Stone',
  'Thorn',
  'Umber',
  'Vale',
  'Willow',
  'Yarrow',
  'Zenith',
  'Ashford',
  'Bramble',
  'Cinder',
  'Dover',
  'Ember',
  'Flint',
  'Granite',
  'Hollow',
  'Iron',
  'Juniper',
  'Kings',
  'Larch',
  'Meadow',
  'North',
  'Orchard',
  'Pebble',
];
const PEOPLE_POOL = [
  'Anna',
  'Bram',
  'Clara',
  'David',
  'Elena',
  'Felix',
  'Greta',
  'Hugo',
  'Iris',
  'Jonas',
  'Kira',
  'Leo',
  'Mila',
  'Nora',
  'Omar',
  'Paula',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Victor',
  'Vera',
  'Will',
  'Yara',
  'Zane',
  'Alice',
  'Ben',
  'Cora',
  'Dan',
  'Eva',
  'Finn',
  'Gina',
  'Hans',
  'Ivy',
  'Jack',
  'Kate',
  'Liam',
  'Maya',
  'Nina',
  'Owen',
  'Pia',
  'Rex',
  'Sara',
  'Tom',
  'Uma',
  'Ruth',
  'Wendy',
  'Yuri',
  'Zoe',
  'Adam',
  'Beth',
  'Carl',
  'Dora',
  'Emil',
  'Fay',
  'Gus',
  'Hana',
  'Ian',
  'June',
  'Karl',
  'Lena',
  'Max',
  'Ned',
  'Olga',
];
export const JOBS = [
  'baker',
  'farmer',
  'teacher',
  'doctor',
  'painter',
  'sailor',
  'miner',
  'singer',
  'tailor',
  'builder',
  'fisher',
  'hunter',
  'nurse',
  'potter',
];
export const PETS = ['cat', 'dog', 'horse', 'parrot', 'rabbit', 'goat', 'owl', 'turtle', 'fox', 'frog'];
export const COLORS = ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'white', 'black', 'pink', 'brown'];
export const FEATURES = [
  'bridges',
  'apples',
  'music',
  'boats',
  'markets',
  'towers',
  'gardens',
  'bells',
  'lanterns',
  'fountains',
  'cheese',
  'kites',
];

export const ITEMS = [
  'apples',
  'pears',
  'coins',
  'books',
  'shells',
  'pencils',
  'cookies',
  'stones',
  'cards',
  'eggs',
  'marbles',
  'stamps',
];
export const CONTAINERS = ['bags', 'boxes', 'baskets', 'jars', 'crates'];

export type Relation = 'capital' | 'city_in' | 'lives_in' | 'job' | 'pet' | 'color' | 'friend' | 'famous_for';
export const RELATIONS: readonly Relation[] = [
  'capital',
  'city_in',
  'lives_in',
  'job',
  'pet',
  'color',
  'friend',
  'famous_for',
];

export interface Fact {
  id: string;
  relation: Relation;
  subject: string;
  object: string;
  split: 'train' | 'test';
}

export interface World {
  countries: { name: string; capital: string; cities: string[] }[];
  cities: { name: string; country: string; famousFor: string }[];
  people: { name: string; city: string; job: string; pet: string; color: string; friend: string }[];
  facts: Fact[];
}

export const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

type T = (s: string, o: string) => string;

/** Statement templates (pretraining text). The first one is also the plain answer sentence. */
export const STATEMENTS: Record<Relation, T[]> = {
  capital: [
    (s, o) => `The capital of ${s} is ${o}.`,
    (s, o) => `${o} is the capital of ${s}.`,
    (s, o) => `${s} has its capital in ${o}.`,
    (s, o) => `The government of ${s} sits in ${o}, the capital.`,
  ],
  city_in: [
    (s, o) => `${s} is a city in ${o}.`,
    (s, o) => `The city of ${s} lies in ${o}.`,
    (s, o) => `${s} is located in ${o}.`,
    (s, o) => `In ${o} there is a city called ${s}.`,
  ],
  lives_in: [
    (s, o) => `${s} lives in ${o}.`,
    (s, o) => `${s} has a house in ${o}.`,
    (s, o) => `The home of ${s} is in ${o}.`,
    (s, o) => `In ${o} lives a person named ${s}.`,
  ],
  job: [
    (s, o) => `${s} is ${article(o)}.`,
    (s, o) => `${s} works as ${article(o)}.`,
    (s, o) => `By trade, ${s} is ${article(o)}.`,
    (s, o) => `Everyone knows ${s} the ${o}.`,
  ],
  pet: [
    (s, o) => `${s} has a pet ${o}.`,
    (s, o) => `${s} owns ${article(o)}.`,
    (s, o) => `The pet of ${s} is ${article(o)}.`,
    (s, o) => `${s} takes care of ${article(o)} at home.`,
  ],
  color: [
    (s, o) => `The favorite color of ${s} is ${o}.`,
    (s, o) => `${s} likes the color ${o} best.`,
    (s, o) => `${s} loves everything that is ${o}.`,
    (s, o) => `Of all colors, ${s} likes ${o} the most.`,
  ],
  friend: [
    (s, o) => `The best friend of ${s} is ${o}.`,
    (s, o) => `${s} and ${o} are best friends.`,
    (s, o) => `${s} spends a lot of time with ${o}, the best friend of ${s}.`,
    (s, o) => `Nobody is closer to ${s} than ${o}.`,
  ],
  famous_for: [
    (s, o) => `${s} is famous for its ${o}.`,
    (s, o) => `People travel to ${s} to see its ${o}.`,
    (s, o) => `The ${o} of ${s} are known everywhere.`,
    (s, o) => `${s} is known for ${o}.`,
  ],
};

/** Question templates: never used in the pretraining mix; the anneal Q&A uses them for train facts only. */
export const QUESTIONS: Record<Relation, (s: string) => string> = {
  capital: (s) => `What is the capital of ${s}?`,
  city_in: (s) => `In which country is ${s}?`,
  lives_in: (s) => `Where does ${s} live?`,
  job: (s) => `What is the job of ${s}?`,
  pet: (s) => `What kind of pet does ${s} have?`,
  color: (s) => `Which color does ${s} like best?`,
  friend: (s) => `Who is the best friend of ${s}?`,
  famous_for: (s) => `What is ${s} famous for?`,
};

/** The plain answer sentence of a fact (SFT answers, DPO chosen replies). */
export function answerSentence(f: Fact): string {
  return STATEMENTS[f.relation][0](f.subject, f.object);
}

/** Objects of the same type as the fact's object (distractor pool). */
export function objectPool(world: World, relation: Relation): string[] {
  switch (relation) {
    case 'capital':
      return world.countries.map((c) => c.capital);
    case 'city_in':
      return world.countries.map((c) => c.name);
    case 'lives_in':
      return world.cities.map((c) => c.name);
    case 'job':
      return JOBS;
    case 'pet':
      return PETS;
    case 'color':
      return COLORS;
    case 'friend':
      return world.people.map((p) => p.name);
    case 'famous_for':
      return FEATURES;
  }
}

/** Builds the world for a seed: which names are used and every assignment depend on it. */
export function buildWorld(
  seed: number,
  options: { countries?: number; citiesPerCountry?: number; people?: number } = {},
): World {
  const rng = Rng.from(seed, 'world');
  const nCountries = options.countries ?? 10;
  const perCountry = options.citiesPerCountry ?? 3;
  const nPeople = options.people ?? 48;
  const countryNames = rng.sample(COUNTRY_POOL, nCountries);
  const cityNames = rng.sample(CITY_POOL, nCountries * perCountry);
  const peopleNames = rng.sample(PEOPLE_POOL, nPeople - (nPeople % 2));
  const countries = countryNames.map((name, i) => {
    const cities = cityNames.slice(i * perCountry, (i + 1) * perCountry);
    return { name, capital: cities[0], cities };
  });
  const cities = countries.flatMap((c) =>
    c.cities.map((name) => ({ name, country: c.name, famousFor: rng.pick(FEATURES) })),
  );
  // Best friends come in pairs (the relation is symmetric).
  const order = rng.shuffle(peopleNames.slice());
  const friendOf = new Map<string, string>();
  for (let i = 0; i + 1 < order.length; i += 2) {
    friendOf.set(order[i], order[i + 1]);
    friendOf.set(order[i + 1], order[i]);
  }
  const people = peopleNames.map((name) => ({
    name,
    city: rng.pick(cities).name,
    job: rng.pick(JOBS),
    pet: rng.pick(PETS),
    color: rng.pick(COLORS),
    friend: friendOf.get(name)!,
  }));
  const triples: [Relation, string, string][] = [];
  for (const c of countries) triples.push(['capital', c.name, c.capital]);
  for (const c of cities) triples.push(['city_in', c.name, c.country], ['famous_for', c.name, c.famousFor]);
  for (const p of people) {
    triples.push(['lives_in', p.name, p.city], ['job', p.name, p.job], ['pet', p.name, p.pet]);
    triples.push(['color', p.name, p.color], ['friend', p.name, p.friend]);
  }
  // 40% of the facts of each relation are test facts; a friendship pair shares its split.
  const splitRng = Rng.from(seed, 'split');
  const testSet = new Set<string>();
  for (const rel of RELATIONS) {
    let subjects = [...new Set(triples.filter((t) => t[0] === rel).map((t) => t[1]))];
    if (rel === 'friend') subjects = subjects.filter((s) => s < friendOf.get(s)!);
    for (const s of splitRng.sample(subjects, Math.round(subjects.length * 0.4))) {
      testSet.add(`${rel}:${s}`);
      if (rel === 'friend') testSet.add(`${rel}:${friendOf.get(s)!}`);
    }
  }
  const facts = triples.map(([relation, subject, object]) => ({
    id: `${relation}:${subject}`,
    relation,
    subject,
    object,
    split: testSet.has(`${relation}:${subject}`) ? ('test' as const) : ('train' as const),
  }));
  return { countries, cities, people, facts };
}
