// Splits one POSIX shell command line into its words the way sh would (single and double quotes,
// backslashes; no expansion), so a test can run a command a document shows through execFile.
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const add = (s: string) => {
    word = (word ?? '') + s;
  };
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '"') {
      i += 1;
      let s = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
        if (line[i] === '\\' && '$`"\\\n'.includes(line[i + 1] ?? '')) i += 1;
        s += line[i];
        i += 1;
      }
      add(s);
      i += 1;
    } else if (ch === '\\') {
      add(line[i + 1] ?? '');
      i += 2;
    } else if (ch === ' ' || ch === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i += 1;
    } else {
      if ('$`|&;<>()*?['.includes(ch)) throw new Error(`unquoted ${ch} needs a shell: ${line}`);
      add(ch);
      i += 1;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
