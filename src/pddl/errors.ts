// Errors raised by the PDDL layer. Every parse error names the source, line and column, what was found and
// what was expected, and records which Python exception the official Proc2PDDL tooling raises for the same
// input, so evaluation can classify it exactly as `evaluate.py` does (parse_error vs. a crash of the script).

/**
 * The exception class the official (Python) parser/planner raises for the same input. `evaluate.py` catches
 * ValueError, TypeError and AttributeError (outcome `parse_error`); anything else (IndexError, ...) aborts
 * the official script.
 */
export type PyErrorClass = 'ValueError' | 'TypeError' | 'AttributeError' | 'IndexError';

export interface SourcePos {
  line: number; // 1-based
  column: number; // 1-based
}

export class PddlParseError extends Error {
  override readonly name = 'PddlParseError';
  readonly source: string;
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  readonly found: string;
  readonly pyClass: PyErrorClass;
  /** What the official tooling prints after `Error: ` in a plan file, where known. */
  readonly officialMessage: string;

  constructor(opts: {
    source?: string;
    pos: SourcePos;
    expected: string;
    found: string;
    pyClass: PyErrorClass;
    officialMessage?: string;
    hint?: string;
  }) {
    const src = opts.source ?? '<input>';
    const hint = opts.hint ? ` ${opts.hint}` : '';
    super(`${src}:${opts.pos.line}:${opts.pos.column}: expected ${opts.expected}, found ${opts.found}.${hint}`);
    this.source = src;
    this.line = opts.pos.line;
    this.column = opts.pos.column;
    this.expected = opts.expected;
    this.found = opts.found;
    this.pyClass = opts.pyClass;
    this.officialMessage = opts.officialMessage ?? this.message;
  }
}

/** Raised for a plan text that cannot be read (validator input). */
export class PlanSyntaxError extends Error {
  override readonly name = 'PlanSyntaxError';
  constructor(
    readonly source: string,
    readonly line: number,
    message: string,
  ) {
    super(`${source}:${line}: ${message}`);
  }
}
