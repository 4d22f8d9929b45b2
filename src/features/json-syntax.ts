/**
 * Where a JSON text first goes wrong, for error messages. JSON.parse says so only sometimes
 * ("Unexpected token 'x', "..." is not valid JSON" has no position), so on failure we scan the
 * text ourselves: an iterative recognizer of the JSON grammar (RFC 8259), no recursion, so any
 * nesting depth is fine.
 */
export type JsonSyntaxError = { line: number; column: number; position: number; message: string };

type State =
  'value' | 'array-first' | 'array-next' | 'object-first' | 'object-key' | 'object-colon' | 'object-next' | 'end';

export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const containers: ('[' | '{')[] = [];
  let state: State = 'value';
  let i = 0;
  const fail = (message: string): JsonSyntaxError => ({ ...lineAndColumn(text, i), position: i, message });
  const found = (): string => (i >= text.length ? 'the end of the file' : describeChar(text, i));
  const afterValue = (): State => {
    const top = containers[containers.length - 1];
    return top === '[' ? 'array-next' : top === '{' ? 'object-next' : 'end';
  };
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    const c = text[i];
    switch (state) {
      case 'end':
        return c === undefined ? null : fail(`unexpected ${found()} after the end of the JSON value`);
      case 'array-next':
      case 'object-next':
        if (c === ',') {
          i++;
          state = state === 'array-next' ? 'value' : 'object-key';
        } else if (c === (state === 'array-next' ? ']' : '}')) {
          i++;
          containers.pop();
          state = afterValue();
        } else {
          return fail(
            state === 'array-next'
              ? `expected ',' or ']' after a list element, found ${found()}`
              : `expected ',' or '}' after a property value, found ${found()}`,
          );
        }
        continue;
      case 'object-colon':
        if (c !== ':') return fail(`expected ':' after a property name, found ${found()}`);
        i++;
        state = 'value';
        continue;
      case 'object-first':
      case 'object-key':
        if (state === 'object-first' && c === '}') {
          i++;
          containers.pop();
          state = afterValue();
          continue;
        }
        if (c !== '"') return fail(`expected a property name in double quotes, found ${found()}`);
        {
          const problem = skipString();
          if (problem) return problem;
        }
        state = 'object-colon';
        continue;
      case 'array-first':
        if (c === ']') {
          i++;
          containers.pop();
          state = afterValue();
          continue;
        }
        state = 'value';
        continue;
      case 'value':
        if (c === '{' || c === '[') {
          containers.push(c);
          i++;
          state = c === '{' ? 'object-first' : 'array-first';
          continue;
        }
        if (c === '"') {
          const problem = skipString();
          if (problem) return problem;
        } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
          const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
          match.lastIndex = i;
          if (!match.exec(text)) return fail(`invalid number at ${found()}`);
          i = match.lastIndex;
          if (/[\d.eE+-]/.test(text[i] ?? '')) return fail(`invalid number: unexpected ${found()}`);
        } else {
          const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
          if (!word)
            return fail(`expected a value (an object, list, string, number, true, false or null), found ${found()}`);
          i += word.length;
        }
        state = afterValue();
        continue;
    }
  }

  /** Moves i past the string starting at text[i] === '"', or returns what is wrong with it. */
  function skipString(): JsonSyntaxError | null {
    const start = i;
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fail(`a string may not contain ${describeChar(text, i)}; write it as an escape such as \\n`);
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else return fail(`invalid escape in a string: ${JSON.stringify(text.slice(i, i + 2))}`);
        continue;
      }
      i++;
    }
    i = start;
    return fail('a string is not closed (missing ")');
  }
}

function describeChar(text: string, at: number): string {
  const code = text.codePointAt(at) as number;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0xfeff) return 'a byte order mark (U+FEFF)';
  return `'${String.fromCodePoint(code)}'`;
}

/** 1-based line and column (in characters) of a position in text. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < position; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: position - lineStart + 1 };
}
