import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserError } from '../../src/errors.ts';
import {
  escapeForTerminal,
  MAX_FEATURE_FILE_BYTES,
  parseFeatureBytes,
  parseFeatureText,
} from '../../src/features/index.ts';
import { findJsonSyntaxError } from '../../src/features/json-syntax.ts';

function rejection(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('parseFeatureText', () => {
  test('fills the SPEC defaults and keeps null dependencies', () => {
    const [entry] = parseFeatureText('{"features": [{"id": 4, "name": "Login", "dependencies": null}]}', 'f.json');
    assert.deepEqual(entry, {
      id: 4,
      priority: 999,
      category: '',
      name: 'Login',
      description: '',
      steps: [],
      dependencies: null,
      passes: false,
      in_progress: false,
    });
  });

  test('a bare list, a byte order mark, "$schema" and other top-level keys are accepted', () => {
    assert.equal(parseFeatureText('\uFEFF[{"id": 1, "name": "A"}]', 'f.json').length, 1);
    const text =
      '{"$schema": "./schema/feature-file.schema.json", "project": "todo", "features": [{"id": 1, "name": "A"}]}';
    assert.equal(parseFeatureText(text, 'f.json').length, 1);
  });

  test('AutoCoder export fields are accepted', () => {
    const text = '[{"id": 1, "name": "A", "testing_in_progress": false, "last_tested_at": null}]';
    assert.equal(parseFeatureText(text, 'f.json')[0]?.testing_in_progress, false);
  });

  test('missing dependencies and cycles are not format errors (plan reports them)', () => {
    const text = '[{"id": 1, "name": "A", "dependencies": [2, 9]}, {"id": 2, "name": "B", "dependencies": [1]}]';
    assert.equal(parseFeatureText(text, 'f.json').length, 2);
  });

  test('the message lists every problem, one per line, under a count; the hint names the JSON Schema', () => {
    const text = '[{"id": 0, "name": ""}, {"id": 3, "name": "B"}, {"id": 3, "name": "C", "dependencies": [3, 0]}]';
    const error = rejection(() => parseFeatureText(text, 'f.json'));
    assert.equal(
      error.message,
      [
        'feature file f.json has 5 problems:',
        '  [0].id: must be at least 1, got 0',
        '  [0].name: must not be empty',
        '  [2].dependencies[1]: must be at least 1, got 0',
        '  [2].id: duplicate id 3 (already used by [1])',
        '  [2].dependencies[0]: feature 3 cannot depend on itself',
      ].join('\n'),
    );
    assert.match(error.hint ?? '', /schema\/feature-file\.schema\.json/);
  });

  test('ids and priorities must fit a Postgres integer', () => {
    const error = rejection(() => parseFeatureText('[{"id": 2147483648, "name": "A", "priority": 1e10}]', 'f.json'));
    assert.match(error.message, /\[0\]\.id: must be at most 2147483647, got 2147483648/);
    assert.match(error.message, /\[0\]\.priority: must be at most 2147483647, got 10000000000/);
  });

  test('values in messages are escaped and cut short', () => {
    const error = rejection(() =>
      parseFeatureText(JSON.stringify([{ id: `\u001b[2J${'x'.repeat(200)}`, name: 'A' }]), 'f.json'),
    );
    assert.doesNotMatch(error.message, /\u001b/);
    assert.ok(error.message.length < 300);
  });
});

describe('parseFeatureBytes', () => {
  const bytes = (...parts: (string | number[])[]): Uint8Array =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

  test('ill-formed UTF-8 is located at the first byte of the bad sequence', () => {
    const cases: [Uint8Array, string][] = [
      [bytes('["', [0xc0, 0xaf], '"]'), 'byte 0xc0 at byte offset 2 (line 1)'], // overlong '/'
      [bytes('[\n\n"', [0xed, 0xa0, 0x80], '"]'), 'byte 0xed at byte offset 4 (line 3)'], // a surrogate
      [bytes('["ok ', [0xe2, 0x82, 0xac], '", "', [0xff], '"]'), 'byte 0xff at byte offset 12 (line 1)'],
      [bytes('["', [0xe2, 0x82]), 'a character cut off by the end of the file at byte offset 2 (line 1)'],
    ];
    for (const [input, expected] of cases) {
      const error = rejection(() => parseFeatureBytes(input, 'f.json'));
      assert.equal(error.message, `feature file f.json is not valid UTF-8: ${expected}`);
    }
  });

  test('the size limit is checked before decoding and named in the message', () => {
    const error = rejection(() => parseFeatureBytes(new Uint8Array(MAX_FEATURE_FILE_BYTES + 1), 'big.json'));
    assert.match(error.message, /over the 20\.0 MB limit \(20971520 bytes\)/);
  });
});

describe('findJsonSyntaxError', () => {
  test('null for any valid JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
        assert.equal(findJsonSyntaxError(JSON.stringify(value, null, indent)), null);
      }),
      { numRuns: 300 },
    );
  });

  test('finds an error whenever JSON.parse fails, at a position inside the text', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\n', '{', '\\'),
        (value, at, insert) => {
          const text = JSON.stringify(value, null, 1);
          const cut = at % (text.length + 1);
          const broken = text.slice(0, cut) + insert + text.slice(cut + (insert === '' ? 1 : 0));
          let parses = true;
          try {
            JSON.parse(broken);
          } catch {
            parses = false;
          }
          const found = findJsonSyntaxError(broken);
          assert.equal(found === null, parses, broken);
          if (found) assert.ok(found.position >= 0 && found.position <= broken.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('line and column point at the offending character', () => {
    assert.deepEqual(findJsonSyntaxError('{\n  "a": 1\n  "b": 2\n}'), {
      line: 3,
      column: 3,
      position: 13,
      message: `expected ',' or '}' after a property value, found '"'`,
    });
  });
});

describe('escapeForTerminal', () => {
  test('control characters, ANSI escapes, C1 controls and bidi overrides become visible escapes', () => {
    assert.equal(
      escapeForTerminal('a\u001b[31mb\u0007\n\t\u009b\u202e\u2066z'),
      'a\\x1b[31mb\\x07\\n\\t\\x9b\\u202e\\u2066z',
    );
  });

  test('ordinary text, accents and emoji pass through', () => {
    assert.equal(escapeForTerminal('Café ✓ 日本 🚀'), 'Café ✓ 日本 🚀');
  });

  test('the output never contains a control character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assert.doesNotMatch(escapeForTerminal(text), /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
      { numRuns: 300 },
    );
  });
});
