// JSON.parse keeps the last of two equal keys; another agent's parser may keep the first. A signed
// text with a duplicate key could therefore mean two things, so it is refused before anything else.

/** Parse JSON text, refusing duplicate keys in any object. Throws SyntaxError with a plain message. */
export function parseJsonWithoutDuplicateKeys(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) throw new SyntaxError(`duplicate key ${JSON.stringify(duplicate.slice(0, 40))}`);
  return value;
}

/** Scan valid JSON text (already accepted by JSON.parse) for an object with a repeated key. */
function findDuplicateKey(text: string): string | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = stack[stack.length - 1] as Set<string>;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return null;
}
