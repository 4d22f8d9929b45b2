/**
 * Parses a Bash command with mvdan/sh (the `mvdan-sh` npm build: the full Bash grammar, in
 * process and synchronous) and lists every simple command in it: those of pipelines, `&&`, `||`,
 * `;`, subshells, blocks, conditionals, loops, functions, and those inside `$(…)`, backticks and
 * `<(…)`. Each word is either known (literal, quotes removed) or dynamic (it holds an expansion
 * whose value the guard cannot know before the shell runs).
 *
 * Why this parser: shell-quote is a tokenizer (no nesting of `$(…)`, no heredocs); bash-parser is
 * POSIX only and refuses common Bash; sh-syntax, mvdan/sh's WASM successor, returns commands as
 * empty objects (its JSON drops the interface-typed `Cmd`), so its tree cannot be checked.
 */
import { createRequire } from 'node:module';

// mvdan-sh ships no types: the few node fields read here, as the GopherJS build exposes them.
type Node = Record<string, unknown>;
type Syntax = {
  NewParser(): { Parse(src: string, name: string): Node };
  Walk(node: Node, visit: (node: Node | null) => boolean): void;
  NodeType(node: Node): string;
};
const { syntax } = createRequire(import.meta.url)('mvdan-sh') as { syntax: Syntax };

/** A word: its text when known, else null; `text` keeps what is known, with `$…` for the rest. */
export type Word = { value: string | null; text: string };
export type Redirect = { op: 'write' | 'read' | 'other'; target: Word };
export type SimpleCommand = {
  name: Word;
  args: Word[];
  /** `NAME=value` prefixes (and a `declare`/`export`'s assignments). */
  assigns: string[];
  redirects: Redirect[];
  /** Inside `$(…)`, backticks or `<(…)`. */
  substituted: boolean;
  /** A later stage of a pipeline: it reads what an earlier command printed. */
  pipedInto: boolean;
};
export type Analysis = { ok: true; commands: SimpleCommand[] } | { ok: false; error: string };

// mvdan/sh syntax.RedirOperator values (checked with the parser: `a > f` is 54, …).
const WRITE_OPS = new Set([54, 55, 57, 60, 64, 65]); // > >> <> >| &> &>>
const DUP_OUT = 59; // >&N, or >& file
const READ_OPS = new Set([56]); // <
const PIPES = new Set([12, 13]); // | |&

type Range = [start: number, end: number];
type Positioned = { Pos(): { Offset(): number }; End(): { Offset(): number } };
const rangeOf = (node: Node): Range => {
  const n = node as unknown as Positioned;
  return [n.Pos().Offset(), n.End().Offset()];
};

function wordOf(node: Node | null | undefined): Word {
  if (!node) return { value: '', text: '' };
  let known = true;
  let text = '';
  const parts = (node.Parts as Node[] | undefined) ?? [];
  const visit = (part: Node): void => {
    switch (syntax.NodeType(part)) {
      case 'Lit':
        text += String(part.Value);
        break;
      case 'SglQuoted':
        if (part.Dollar) known = false; // $'…' escapes: not read here
        text += String(part.Value);
        break;
      case 'DblQuoted':
        for (const inner of (part.Parts as Node[]) ?? []) visit(inner);
        break;
      case 'ParamExp': {
        known = false;
        const param = part.Param as Node | null;
        text += `$${param ? String(param.Value) : ''}`;
        break;
      }
      default: // CmdSubst, ArithmExp, ProcSubst, ExtGlob, BraceExp: unknown until run
        known = false;
        text += '$(…)';
    }
  };
  for (const part of parts) visit(part);
  return { value: known ? text : null, text };
}

export function analyse(command: string): Analysis {
  let file: Node;
  try {
    file = syntax.NewParser().Parse(command, '');
  } catch (error) {
    return { ok: false, error: String((error as { Error?: () => string }).Error?.() ?? error) };
  }
  const commands: SimpleCommand[] = [];
  // The context of a statement, by source range: GopherJS hands out a new wrapper object on each
  // field access, so nodes cannot be recognised by identity. Walk visits a parent before its children.
  const piped: Range[] = [];
  const substituted: Range[] = [];
  syntax.Walk(file, (node) => {
    if (!node) return true;
    const type = syntax.NodeType(node);
    if (type === 'BinaryCmd' && PIPES.has(node.Op as number)) piped.push(rangeOf(node.Y as Node));
    if (type === 'CmdSubst' || type === 'ProcSubst') substituted.push(rangeOf(node));
    if (type !== 'Stmt') return true;
    const cmd = node.Cmd as Node | null;
    const redirects: Redirect[] = ((node.Redirs as Node[]) ?? []).map((r) => {
      const op = r.Op as number;
      const target = wordOf(r.Word as Node);
      const fd = target.value !== null && /^(\d+|-)$/.test(target.value);
      return {
        op: WRITE_OPS.has(op) || (op === DUP_OUT && !fd) ? 'write' : READ_OPS.has(op) ? 'read' : 'other',
        target,
      };
    });
    const at = rangeOf(node)[0];
    const within = (ranges: Range[]) => ranges.some(([start, end]) => at >= start && at < end);
    const context = { substituted: within(substituted), pipedInto: within(piped) };
    const cmdType = cmd ? syntax.NodeType(cmd) : null;
    if (cmdType === 'CallExpr') {
      const assigns = ((cmd!.Assigns as Node[]) ?? []).map((a) => String((a.Name as Node | null)?.Value ?? ''));
      const words = ((cmd!.Args as Node[]) ?? []).map(wordOf);
      const [name, ...args] = words;
      // `FOO=1` alone sets a variable: no command runs, but its redirects still count.
      commands.push({ name: name ?? { value: '', text: '' }, args, assigns, redirects, ...context });
    } else if (cmdType === 'DeclClause') {
      const variant = String((cmd!.Variant as Node).Value);
      const assigns = ((cmd!.Args as Node[]) ?? []).map((a) => String((a.Name as Node | null)?.Value ?? ''));
      commands.push({ name: { value: variant, text: variant }, args: [], assigns, redirects, ...context });
    } else if (redirects.length > 0) {
      // `(…) > file`, `{ …; } > file`, `if …; fi > file`: the redirect is the statement's own.
      commands.push({ name: { value: '', text: '' }, args: [], assigns: [], redirects, ...context });
    }
    return true;
  });
  return { ok: true, commands };
}
