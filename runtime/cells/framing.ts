// Newline-delimited JSON framing for cell pipes, with a bound on a frame's size so a cell cannot make the
// kernel buffer without end. JSON.stringify never emits a raw newline, so a newline always ends a frame.

export class LineReader {
  private parts: string[] = [];
  private size = 0;
  private readonly maxChars: () => number;
  private readonly onLine: (line: string) => void;
  private readonly onOverflow: (chars: number) => void;
  private broken = false;

  constructor(maxChars: () => number, onLine: (line: string) => void, onOverflow: (chars: number) => void) {
    this.maxChars = maxChars;
    this.onLine = onLine;
    this.onOverflow = onOverflow;
  }

  push(chunk: string): void {
    if (this.broken) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", start);
      if (nl < 0) break;
      const piece = chunk.slice(start, nl);
      const line = this.parts.length > 0 ? this.parts.join("") + piece : piece;
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      if (line.length > this.maxChars()) {
        this.overflow(line.length);
        return;
      }
      this.onLine(line);
      if (this.broken) return;
    }
    if (start < chunk.length) {
      const rest = start === 0 ? chunk : chunk.slice(start);
      this.parts.push(rest);
      this.size += rest.length;
      if (this.size > this.maxChars()) this.overflow(this.size);
    }
  }

  /** Stops delivering lines (the peer is being shut down). */
  stop(): void {
    this.broken = true;
    this.parts = [];
  }

  private overflow(chars: number): void {
    this.stop();
    this.onOverflow(chars);
  }
}
