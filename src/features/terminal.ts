/**
 * Text from a feature file (names, categories) printed to a terminal: control characters, ANSI
 * escape sequences, C1 controls and bidirectional overrides are shown as visible escapes
 * (`\x1b`, `\n`, `\u202e`) so a feature name cannot move the cursor, recolour, hide or reorder
 * what we print around it.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
