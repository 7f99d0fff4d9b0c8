// A small LaTeX expression evaluator that stands in for open-instruct's sympy check
// (`simplify(parse_latex(a) - parse_latex(b)) == 0`, 5 s timeout), which has no TypeScript equivalent.
//
// What it accepts: numbers (`3`, `-2.5`, `.5`), single-letter variables and Greek-letter commands (`x`, `\theta`),
// `+ - * /`, `\cdot`, `\times`, `\div`, implicit multiplication (`2x`, `2\sqrt{3}`, `(x+1)(x-1)`), `^` (braced or
// one character, as in TeX), `!`, `\frac`/`\dfrac`/`\tfrac` (braced or one-character arguments, `\frac12`),
// `\sqrt{x}`, `\sqrt x`, `\sqrt[n]{x}`, `\pi`, `\sin \cos \tan \ln \log \exp` and their kin, parentheses/brackets/
// braces, `\left`/`\right` and TeX spacing. Anything else (`=`, `<`, commas, `\text`, `\infty`, `%`, `\circ`, ...)
// makes parsing fail, and a failed parse means "not equivalent" — as a sympy parse error does in the reference.
//
// How it decides: values are exact rationals (BigInt) while the operations allow it (+ - * /, integer powers,
// square roots of perfect squares) and floats otherwise. Expressions without variables are equal when both are
// exact and equal, or both finite and within 1e-12 relative. Expressions with variables are evaluated at eight
// rational points and must agree at every point where either side is defined (at least four such points).
// Limits: inputs over 2,000 characters or nested over 100 levels are not evaluated.
// Known differences from sympy: no symbolic simplification of non-rational identities beyond numeric agreement at
// the sample points (`\sin^2 x + \cos^2 x` vs `1` is equal here, as in sympy); floating point rather than exact
// arithmetic for irrational values, so two different irrational numbers closer than 1e-12 compare equal.

type Value = { q: true; n: bigint; d: bigint } | { q: false; v: number };

const MAX_LEN = 2000;
const MAX_DEPTH = 100;
const MAX_BITS = 2048n;

class ParseFail extends Error {}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bits(x: bigint): bigint {
  return BigInt((x < 0n ? -x : x).toString(2).length);
}

function rat(n: bigint, d: bigint): Value {
  if (d === 0n) return { q: false, v: NaN };
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  if (g > 1n) {
    n /= g;
    d /= g;
  }
  if (bits(n) > MAX_BITS || bits(d) > MAX_BITS) return { q: false, v: toNum({ q: true, n, d }) };
  return { q: true, n, d };
}

function toNum(x: Value): number {
  if (!x.q) return x.v;
  const n = Number(x.n);
  const d = Number(x.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // very large: scale down
  const shift = BigInt(Math.max(0, Number(bits(x.n > x.d ? x.n : x.d)) - 1000));
  return Number(x.n >> shift) / Number(x.d >> shift);
}

const fl = (v: number): Value => ({ q: false, v });

function add(a: Value, b: Value): Value {
  return a.q && b.q ? rat(a.n * b.d + b.n * a.d, a.d * b.d) : fl(toNum(a) + toNum(b));
}
function neg(a: Value): Value {
  return a.q ? { q: true, n: -a.n, d: a.d } : fl(-a.v);
}
function mul(a: Value, b: Value): Value {
  return a.q && b.q ? rat(a.n * b.n, a.d * b.d) : fl(toNum(a) * toNum(b));
}
function div(a: Value, b: Value): Value {
  if (b.q && b.n === 0n) return fl(NaN);
  return a.q && b.q ? rat(a.n * b.d, a.d * b.n) : fl(toNum(a) / toNum(b));
}
function isqrt(n: bigint): bigint | null {
  if (n < 0n) return null;
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  if (x === 0n) x = 1n;
  for (let i = 0; i < 200; i++) {
    const y = (x + n / x) >> 1n;
    if (y >= x && x * x <= n) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x * x === n ? x : null;
}
function pow(a: Value, b: Value): Value {
  if (a.q && b.q && b.d === 1n) {
    const e = b.n < 0n ? -b.n : b.n;
    const size = bits(a.n > a.d ? a.n : a.d) * e;
    if (size <= MAX_BITS) {
      if (b.n < 0n && a.n === 0n) return fl(NaN);
      const r = rat(a.n ** e, a.d ** e);
      return b.n < 0n ? div(rat(1n, 1n), r) : r;
    }
  }
  if (a.q && b.q && b.d === 2n && b.n > 0n) {
    const s = sqrtV(a);
    return pow(s, rat(b.n, 1n));
  }
  const x = toNum(a);
  const y = toNum(b);
  return fl(x < 0 && !Number.isInteger(y) ? NaN : Math.pow(x, y));
}
function sqrtV(a: Value): Value {
  if (a.q) {
    const rn = isqrt(a.n);
    const rd = isqrt(a.d);
    if (rn !== null && rd !== null) return rat(rn, rd);
  }
  const x = toNum(a);
  return fl(x < 0 ? NaN : Math.sqrt(x));
}
function factorial(a: Value): Value {
  if (!a.q || a.d !== 1n || a.n < 0n || a.n > 300n) return fl(NaN);
  let r = 1n;
  for (let i = 2n; i <= a.n; i++) r *= i;
  return rat(r, 1n);
}

type Node = (env: Map<string, Value>) => Value;

const FUNCS: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  log: Math.log,
  exp: Math.exp,
};
const GREEK = new Set([
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'varepsilon',
  'zeta',
  'eta',
  'theta',
  'vartheta',
  'iota',
  'kappa',
  'lambda',
  'mu',
  'nu',
  'xi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'varphi',
  'chi',
  'psi',
  'omega',
  'Gamma',
  'Delta',
  'Theta',
  'Lambda',
  'Xi',
  'Sigma',
  'Phi',
  'Psi',
  'Omega',
]);
const IGNORED_CMDS = new Set([
  'left',
  'right',
  'displaystyle',
  'mathrm',
  'mathit',
  'bigl',
  'bigr',
  'Bigl',
  'Bigr',
  'big',
  'Big',
]);

class Parser {
  private i = 0;
  private depth = 0;
  readonly vars = new Set<string>();
  constructor(private readonly s: string) {}

  parseAll(): Node {
    const n = this.expr();
    this.ws();
    if (this.i !== this.s.length) throw new ParseFail(`unexpected '${this.s[this.i]}'`);
    return n;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseFail('too deep');
  }
  private leave(): void {
    this.depth--;
  }

  private ws(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else if (c === '\\' && /^\\(?:[,;:! ]|quad\b|qquad\b)/.test(this.s.slice(this.i, this.i + 7))) {
        const m = /^\\(?:[,;:! ]|quad|qquad)/.exec(this.s.slice(this.i, this.i + 7))!;
        this.i += m[0].length;
      } else if (c === '\\') {
        const m = /^\\([a-zA-Z]+)/.exec(this.s.slice(this.i, this.i + 20));
        if (m && IGNORED_CMDS.has(m[1]!)) this.i += m[0].length;
        else return;
      } else return;
    }
  }

  private peekCmd(): string | null {
    const m = /^\\([a-zA-Z]+)/.exec(this.s.slice(this.i, this.i + 20));
    return m ? m[1]! : null;
  }

  private expr(): Node {
    this.enter();
    let left = this.term();
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === '+' || c === '-') {
        this.i++;
        const right = this.term();
        const l = left;
        left = c === '+' ? (e) => add(l(e), right(e)) : (e) => add(l(e), neg(right(e)));
      } else break;
    }
    this.leave();
    return left;
  }

  private term(): Node {
    let left = this.unary();
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      const cmd = c === '\\' ? this.peekCmd() : null;
      let op: 'mul' | 'div' | null = null;
      if (c === '*') {
        this.i++;
        op = 'mul';
      } else if (c === '/') {
        this.i++;
        op = 'div';
      } else if (cmd === 'cdot' || cmd === 'times') {
        this.i += cmd.length + 1;
        op = 'mul';
      } else if (cmd === 'div') {
        this.i += 4;
        op = 'div';
      } else if (this.startsPrimary()) {
        op = 'mul';
      }
      if (op === null) break;
      const right = this.unary();
      const l = left;
      left = op === 'mul' ? (e) => mul(l(e), right(e)) : (e) => div(l(e), right(e));
    }
    return left;
  }

  private startsPrimary(): boolean {
    const c = this.s[this.i];
    if (c === undefined) return false;
    if (/[0-9.a-zA-Z({[]/.test(c)) return true;
    if (c === '\\') {
      const cmd = this.peekCmd();
      return (
        cmd !== null &&
        (cmd === 'frac' ||
          cmd === 'dfrac' ||
          cmd === 'tfrac' ||
          cmd === 'sqrt' ||
          cmd === 'pi' ||
          cmd in FUNCS ||
          GREEK.has(cmd))
      );
    }
    return false;
  }

  private unary(): Node {
    this.ws();
    const c = this.s[this.i];
    if (c === '-' || c === '+') {
      this.i++;
      this.enter();
      const inner = this.unary();
      this.leave();
      return c === '-' ? (e) => neg(inner(e)) : inner;
    }
    return this.postfix(this.primary());
  }

  private postfix(base: Node): Node {
    let node = base;
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === '^') {
        this.i++;
        const exp = this.arg();
        const b = node;
        node = (e) => pow(b(e), exp(e));
      } else if (c === '!') {
        this.i++;
        const b = node;
        node = (e) => factorial(b(e));
      } else return node;
    }
  }

  /** A TeX argument: `{expr}` or a single character / command atom. */
  private arg(): Node {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.group('{', '}');
    if (c !== undefined && /[0-9]/.test(c)) {
      this.i++;
      const v = rat(BigInt(c), 1n);
      return () => v;
    }
    if (c !== undefined && /[a-zA-Z]/.test(c)) {
      this.i++;
      this.vars.add(c);
      return (e) => e.get(c) ?? fl(NaN);
    }
    if (c === '\\') return this.primary();
    throw new ParseFail('bad argument');
  }

  private group(_open: string, close: string): Node {
    this.i++; // open
    this.enter();
    const inner = this.expr();
    this.leave();
    this.ws();
    if (this.s[this.i] !== close) throw new ParseFail(`expected '${close}'`);
    this.i++;
    return inner;
  }

  private primary(): Node {
    this.enter();
    try {
      return this.primaryInner();
    } finally {
      this.leave();
    }
  }

  private primaryInner(): Node {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new ParseFail('unexpected end');
    if (c === '(') return this.group('(', ')');
    if (c === '[') return this.group('[', ']');
    if (c === '{') return this.group('{', '}');
    if (/[0-9.]/.test(c)) {
      const m = /^(\d*)(?:\.(\d+))?/.exec(this.s.slice(this.i, this.i + 400))!;
      if (m[0] === '' || m[0] === '.') throw new ParseFail('bad number');
      this.i += m[0].length;
      const frac = m[2] ?? '';
      const v = rat(BigInt((m[1] || '0') + frac), 10n ** BigInt(frac.length));
      return () => v;
    }
    if (/[a-zA-Z]/.test(c)) {
      this.i++;
      let name = c;
      if (this.s[this.i] === '_') {
        this.i++;
        const sub = /^(\{[a-zA-Z0-9]{1,10}\}|[a-zA-Z0-9])/.exec(this.s.slice(this.i, this.i + 12));
        if (!sub) throw new ParseFail('bad subscript');
        this.i += sub[0].length;
        name += `_${sub[0].replace(/[{}]/g, '')}`;
      }
      this.vars.add(name);
      return (e) => e.get(name) ?? fl(NaN);
    }
    if (c === '\\') {
      const cmd = this.peekCmd();
      if (cmd === null) throw new ParseFail('bad command');
      this.i += cmd.length + 1;
      if (cmd === 'frac' || cmd === 'dfrac' || cmd === 'tfrac') {
        const a = this.arg();
        const b = this.arg();
        return (e) => div(a(e), b(e));
      }
      if (cmd === 'sqrt') {
        this.ws();
        if (this.s[this.i] === '[') {
          const idx = this.group('[', ']');
          const a = this.arg();
          return (e) => {
            const n = idx(e);
            if (n.q && n.d === 1n && n.n === 2n) return sqrtV(a(e));
            const x = toNum(a(e));
            const k = toNum(n);
            if (x < 0 && Number.isInteger(k) && k % 2 === 1) return fl(-Math.pow(-x, 1 / k));
            return pow(a(e), fl(1 / k));
          };
        }
        const a = this.arg();
        return (e) => sqrtV(a(e));
      }
      if (cmd === 'pi') return () => fl(Math.PI);
      if (GREEK.has(cmd)) {
        const name = `\\${cmd}`;
        this.vars.add(name);
        return (e) => e.get(name) ?? fl(NaN);
      }
      const f = FUNCS[cmd];
      if (f) {
        this.ws();
        // \sin^2 x
        let power: Node | null = null;
        if (this.s[this.i] === '^') {
          this.i++;
          power = this.arg();
        }
        this.ws();
        const a = this.s[this.i] === '(' ? this.group('(', ')') : this.arg();
        return (e) => {
          const r = fl(f(toNum(a(e))));
          return power ? pow(r, power(e)) : r;
        };
      }
      throw new ParseFail(`unsupported \\${cmd}`);
    }
    throw new ParseFail(`unexpected '${c}'`);
  }
}

/** A parsed expression: its free variables and an evaluator. Null when `s` is not a supported expression. */
export function parseLatexExpr(s: string): { vars: Set<string>; evaluate: (env: Map<string, Value>) => Value } | null {
  if (s.length > MAX_LEN) return null;
  const t = s.replace(/\$/g, '').trim();
  if (t === '') return null;
  try {
    const p = new Parser(t);
    const node = p.parseAll();
    return { vars: p.vars, evaluate: node };
  } catch (e) {
    if (e instanceof ParseFail || e instanceof RangeError || e instanceof SyntaxError) return null;
    return null;
  }
}

function close(a: Value, b: Value): boolean | null {
  if (a.q && b.q) return a.n === b.n && a.d === b.d;
  const x = toNum(a);
  const y = toNum(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return null; // undefined on both sides: no evidence
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x), Math.abs(y));
}

const SAMPLE_POINTS: ReadonlyArray<readonly [bigint, bigint]> = [
  [3n, 7n],
  [11n, 5n],
  [-5n, 13n],
  [17n, 3n],
  [2n, 9n],
  [-19n, 7n],
  [23n, 11n],
  [7n, 29n],
];

/**
 * Numeric/symbolic equivalence of two LaTeX expressions (the stand-in for sympy's check). False when either side
 * does not parse.
 */
export function latexEquivalent(a: string, b: string): boolean {
  const pa = parseLatexExpr(a);
  const pb = parseLatexExpr(b);
  if (!pa || !pb) return false;
  const vars = [...new Set([...pa.vars, ...pb.vars])].sort();
  try {
    if (vars.length === 0) {
      const env = new Map<string, Value>();
      return close(pa.evaluate(env), pb.evaluate(env)) === true;
    }
    let agreeing = 0;
    for (let k = 0; k < SAMPLE_POINTS.length; k++) {
      const env = new Map<string, Value>();
      vars.forEach((v, j) => {
        const [n, d] = SAMPLE_POINTS[(k + 3 * j) % SAMPLE_POINTS.length]!;
        env.set(v, rat(n + BigInt(j), d));
      });
      const r = close(pa.evaluate(env), pb.evaluate(env));
      if (r === false) return false;
      if (r === true) agreeing++;
    }
    return agreeing >= 4;
  } catch {
    return false;
  }
}
