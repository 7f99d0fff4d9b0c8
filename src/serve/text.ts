// The text of one generated choice as its tokens arrive: decoded whole each time (a token's bytes may complete a
// character begun by the one before), cut at the first stop string, and released to a stream only once it can
// no longer turn out to be the start of a stop string or an unfinished character.
export class ChoiceText {
  readonly ids: number[] = [];
  /** The text released so far (what a stream has sent). */
  private released = '';
  private final: string | null = null;
  /** The stop string that ended the text (vLLM's stop_reason), null while none has. */
  stopString: string | null = null;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stops: readonly string[],
    private readonly includeStop: boolean,
  ) {}

  /** Whether a stop string ended the text. */
  get stopped(): boolean {
    return this.final !== null;
  }

  /** Adds a token; returns the newly released text. After a stop string nothing more is taken. */
  push(id: number): string {
    if (this.final !== null) return '';
    this.ids.push(id);
    const text = this.decode(this.ids);
    const cut = firstStop(text, this.stops);
    if (cut) {
      this.stopString = cut.stop;
      this.final = text.slice(0, cut.index + (this.includeStop ? cut.stop.length : 0));
      return this.release(this.final);
    }
    return this.release(text.slice(0, text.length - this.heldBack(text)));
  }

  /** The whole text (call when the sequence has ended); returns what was still held back. */
  finish(): string {
    const text = this.final ?? this.decode(this.ids);
    this.final = text;
    return this.release(text);
  }

  get text(): string {
    return this.final ?? this.released;
  }

  private release(upTo: string): string {
    if (!upTo.startsWith(this.released) || upTo.length <= this.released.length) return '';
    const delta = upTo.slice(this.released.length);
    this.released = upTo;
    return delta;
  }

  /** Characters at the end that may yet change: an unfinished UTF-8 sequence, or the start of a stop string. */
  private heldBack(text: string): number {
    if (text.endsWith('\uFFFD')) return text.length - text.replace(/\uFFFD+$/, '').length;
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}

function firstStop(text: string, stops: readonly string[]): { index: number; stop: string } | null {
  let best: { index: number; stop: string } | null = null;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && (best === null || i < best.index)) best = { index: i, stop: s };
  }
  return best;
}
