/**
 * The docs' TypeScript blocks, type-checked as a user would compile them: every ```ts block of
 * README.md and docs/guide/*.md is written to a project outside the repository, whose
 * node_modules is the repository's (so `switchboard` is the built package, through its
 * `exports`), and compiled with `strict` under NodeNext (fastify and Hono check their docs' code
 * the same way).
 *
 * Fence info strings:
 * - ```ts: a complete module, checked with Node's types;
 * - ```ts browser: checked with DOM types and without Node's (a page's script);
 * - ```ts file=app.ts: as ```ts, written as `app.ts` so later blocks of the same page import it as `./app.js`;
 * - ```ts no-check: a fragment, not checked (keep them rare; the guide's examples never are).
 * Every checked block must also do without casts (`as`, `<T>x`), non-null assertions (`x!`) and `any`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import ts from 'typescript';

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, relative to the repository root (`docs/guide/consumers.md`). */
  readonly doc: string;
  /** 1-based line of the block's first code line in `doc`. */
  readonly line: number;
  /** The fence's language (`ts`, `sh`, `html`, …). */
  readonly lang: string;
  /** Words after the language: `no-check`, `browser`, `file=app.ts`. */
  readonly flags: readonly string[];
  /** The file name given with `file=`, else `undefined`. */
  readonly fileName: string | undefined;
  readonly code: string;
}

/** What the checker found wrong with one block. */
export interface BlockProblem {
  readonly block: CodeBlock;
  /** `doc:line: message`, `line` in the markdown file. */
  readonly message: string;
}

const TS_LANGS = new Set(['ts', 'typescript']);

/** Whether a block is TypeScript the checker compiles. */
export function isCheckedBlock(block: CodeBlock): boolean {
  return TS_LANGS.has(block.lang) && !block.flags.includes('no-check');
}

/**
 * The fenced blocks of a markdown text (CommonMark fences: ``` or ~~~, closed by a fence of the
 * same character at least as long).
 */
export function extractBlocks(doc: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const [, fence = '', lang = '', rest = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j] ?? '');
      if (close !== null && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break;
      body.push(lines[j] ?? '');
    }
    const flags = rest.split(/\s+/).filter(Boolean);
    const named = flags.find((f) => f.startsWith('file='));
    blocks.push({ doc, line: i + 2, lang: lang.toLowerCase(), flags, fileName: named?.slice('file='.length), code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

/** Packages a block may import only where they are installed (the repository does not need them). */
const OPTIONAL_MODULES = ['express', 'ajv', 'zod'];

/**
 * The optional package a block imports that is not installed under `root`, or `undefined`: such
 * a block is skipped, not failed (Express examples compile where Express is installed).
 */
export function missingOptionalModule(root: string, block: CodeBlock): string | undefined {
  const require = createRequire(join(root, 'package.json'));
  for (const name of OPTIONAL_MODULES) {
    if (!new RegExp(`from '${name}'`).test(block.code)) continue;
    try {
      require.resolve(`${name}/package.json`);
    } catch {
      return name;
    }
  }
  return undefined;
}

/** Reads the blocks of `docs` (paths relative to `root`). */
export function readBlocks(root: string, docs: readonly string[]): CodeBlock[] {
  return docs.flatMap((doc) => extractBlocks(doc, readFileSync(join(root, doc), 'utf8')));
}

const BASE_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  noImplicitOverride: true,
  noEmit: true,
  skipLibCheck: true,
  esModuleInterop: true,
};

const NODE_OPTIONS: ts.CompilerOptions = { ...BASE_OPTIONS, lib: ['lib.es2023.d.ts'], types: ['node'] };
const BROWSER_OPTIONS: ts.CompilerOptions = { ...BASE_OPTIONS, lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'], types: [] };

/** The casts, non-null assertions and `any` in a block, as problems. */
function styleProblems(block: CodeBlock, source: ts.SourceFile): BlockProblem[] {
  const problems: BlockProblem[] = [];
  const report = (node: ts.Node, what: string): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    problems.push({ block, message: `${block.doc}:${block.line + line}: ${what}: ${node.getText(source).slice(0, 60)}` });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) report(node, 'a cast (the guide shows code without casts)');
    else if (ts.isNonNullExpression(node)) report(node, 'a non-null assertion (the guide shows code without `!`)');
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, '`any` (the guide shows code without `any`)');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

/** The directory and file name a block is written to in the check project. */
function placeOf(block: CodeBlock): string {
  const page = block.doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
  return join(page, block.fileName ?? `block-line-${block.line}.ts`);
}

/**
 * Type-checks the blocks; returns the problems (type errors and style), `[]` when all pass.
 * @param root - the repository root, whose `node_modules` the check project uses.
 */
export function checkBlocks(root: string, blocks: readonly CodeBlock[]): BlockProblem[] {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-doc-blocks-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'doc-blocks', private: true, type: 'module' }));
    symlinkSync(resolve(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const byFile = new Map<string, CodeBlock>();
    for (const block of blocks) {
      const file = join(dir, placeOf(block));
      if (byFile.has(file)) throw new Error(`${block.doc}:${block.line}: a second block named ${basename(file)} on this page`);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, block.code);
      byFile.set(file, block);
    }
    const problems: BlockProblem[] = [];
    for (const browser of [false, true]) {
      const files = [...byFile].filter(([, b]) => b.flags.includes('browser') === browser).map(([f]) => f);
      if (files.length === 0) continue;
      const program = ts.createProgram(files, browser ? BROWSER_OPTIONS : NODE_OPTIONS);
      for (const d of ts.getPreEmitDiagnostics(program)) {
        const text = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
        const block = d.file === undefined ? undefined : byFile.get(resolve(d.file.fileName));
        if (block === undefined || d.file === undefined) {
          const where = d.file === undefined ? '' : `${d.file.fileName}: `;
          problems.push({ block: blocks[0] ?? { doc: '?', line: 0, lang: 'ts', flags: [], fileName: undefined, code: '' }, message: `${where}TS${d.code}: ${text}` });
          continue;
        }
        const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
        problems.push({ block, message: `${block.doc}:${block.line + line}: TS${d.code}: ${text}` });
      }
      for (const file of files) {
        const source = program.getSourceFile(file);
        const block = byFile.get(file);
        if (source !== undefined && block !== undefined) problems.push(...styleProblems(block, source));
      }
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
