/**
 * Reads a byte stream line by line.
 *
 * @module
 */

/** Pulls text lines, without their line ends, from a byte stream. */
export class TextLineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #done = false;

  /** Wraps a byte stream. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line, or `undefined` at the end of the stream. */
  async next(): Promise<string | undefined> {
    while (true) {
      const end = this.#buffer.indexOf("\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(end + 1);
        return line;
      }
      if (this.#done) {
        if (this.#buffer === "") return undefined;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += value;
    }
  }
}

/** Text read so far from a byte stream that is read to its end in the background. */
export interface CollectedText {
  /** Everything read so far. */
  text(): string;
  /** Settles once the stream has ended. */
  done: Promise<void>;
}

/** Reads `stream` to its end in the background (a child's stderr, say), keeping its text. */
export function collectText(stream: ReadableStream<Uint8Array>): CollectedText {
  let text = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  return { text: () => text, done };
}
