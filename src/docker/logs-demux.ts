/**
 * Docker's log stream without a TTY is a sequence of frames: an 8-byte header (byte 0 = stream,
 * 1 stdout / 2 stderr; bytes 4-7 = big-endian length) and the payload. With a TTY it is raw bytes.
 * With `timestamps: true` every line starts with an RFC 3339 time and a space.
 */
export interface LogLine {
  container: string;
  stream: 'stdout' | 'stderr';
  at: string | null;
  text: string;
}

export function demuxDockerLogs(bytes: Buffer, tty: boolean, container: string): LogLine[] {
  if (tty) return splitLines(bytes.toString('utf8'), 'stdout', container);
  const out: LogLine[] = [];
  const chunks: { stream: 'stdout' | 'stderr'; parts: Buffer[] } = { stream: 'stdout', parts: [] };
  const flush = () => {
    if (chunks.parts.length > 0)
      out.push(...splitLines(Buffer.concat(chunks.parts).toString('utf8'), chunks.stream, container));
    chunks.parts = [];
  };
  let at = 0;
  while (at + 8 <= bytes.length) {
    const streamByte = bytes[at];
    const size = bytes.readUInt32BE(at + 4);
    const stream = streamByte === 2 ? 'stderr' : 'stdout';
    const payload = bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length));
    // Consecutive frames of one stream may split a line: join them before splitting into lines.
    if (stream !== chunks.stream) {
      flush();
      chunks.stream = stream;
    }
    chunks.parts.push(payload);
    at += 8 + size;
  }
  flush();
  return out;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) /;

function splitLines(text: string, stream: 'stdout' | 'stderr', container: string): LogLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((raw) => {
    const m = TIMESTAMP.exec(raw);
    const line = raw.replace(/\r$/, '');
    return m
      ? { container, stream, at: m[1]!, text: line.slice(m[0].length) }
      : { container, stream, at: null, text: line };
  });
}
