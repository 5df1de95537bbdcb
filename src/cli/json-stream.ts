/**
 * A JSON array written as it is filled, one element a line, so that a listing of millions of
 * entries (`ls`, `find`, `diff`) is valid JSON without being held: `open` writes what comes
 * before the array (`[`, or `{"changes": [`), `close` what comes after it.
 */
export class JsonArrayStream {
  private count = 0;

  constructor(private readonly out: (text: string) => void = (text) => process.stdout.write(text)) {}

  open(prefix = '['): void {
    this.out(prefix);
  }

  push(value: unknown): void {
    this.out(`${this.count > 0 ? ',' : ''}\n  ${JSON.stringify(value)}`);
    this.count++;
  }

  close(suffix = ']\n'): void {
    this.out(this.count > 0 ? `\n${suffix}` : suffix);
  }
}
