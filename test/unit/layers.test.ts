// The layers of src/ and the third-party boundaries (README "Layout"), checked on every import of
// the TypeScript sources: static, dynamic, type-only and re-exports, require() and the thread
// entries started with `new URL('./x.js', import.meta.url)`. A failure lists each violation with
// its file and line.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Layer = 'core' | 'shared' | 'stage' | 'cli';

/** Every folder of src/ and its layer; a new folder must be given one here. */
const FOLDERS: Record<string, Layer> = {
  core: 'core',
  config: 'shared',
  ddl: 'shared',
  source: 'shared',
  state: 'shared',
  target: 'shared',
  transport: 'shared',
  capture: 'stage',
  apply: 'stage',
  bootstrap: 'stage',
  cli: 'cli',
};

/** What a file may import from other folders of src/, by its layer (its own folder: always). */
const MAY_IMPORT: Record<Layer, { layers: Layer[]; rule: string }> = {
  core: { layers: [], rule: 'core imports nothing of ours outside core' },
  shared: { layers: ['core', 'shared'], rule: 'config, ddl, source, state, target and transport import core and each other, never a stage or cli' },
  stage: { layers: ['core', 'shared'], rule: 'a stage (capture, apply, bootstrap) imports core and the shared layers, never another stage or cli' },
  cli: { layers: ['core', 'shared', 'stage'], rule: 'cli composes everything' },
};

/**
 * Packages that one module imports, in all of src/, test/ and bench/: the rest go through it.
 * `checkedBy`: the test that compares the module's replacements with the package's own code.
 */
const ONE_MODULE: Record<string, { module: string; checkedBy?: string }> = {
  kafkajs: { module: 'src/transport/kafkajs.ts', checkedBy: 'test/unit/kafkajs-patches.test.ts' },
  '@vlasky/zongji': { module: 'src/source/zongji.ts' },
};

/** SQL on the replica's control schema is written in this folder only. */
const CONTROL_SCHEMA_SQL = { folder: 'src/state/', pattern: /\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?_my2pg\./i };

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Reference {
  file: string;
  line: number;
  /** As written: a package name, or a relative path. */
  spec: string;
  /** A relative spec resolved to its .ts file, from the repository root. */
  target?: string;
}

/**
 * Everything `file` imports; for a file of src/ also the modules it starts as threads and its
 * string literals (parsing is what costs: test/ and bench/ are only scanned for imports).
 */
function scan(file: string): { refs: Reference[]; strings: Array<{ line: () => number; text: string }> } {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  const ref = (spec: string, pos: number): Reference => {
    const r: Reference = { file, line: lineOf(pos), spec };
    if (spec.startsWith('.')) r.target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    return r;
  };
  const refs = ts.preProcessFile(text, true, true).importedFiles.map((f) => ref(f.fileName, f.pos));
  const strings: Array<{ line: () => number; text: string }> = [];
  if (!file.startsWith('src/')) return { refs, strings };
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const pos = node.getStart(source);
      strings.push({ line: () => lineOf(pos), text: node.text });
    }
    // new URL('./entry.js', import.meta.url): a module started as a thread.
    if (ts.isNewExpression(node) && node.expression.getText(source) === 'URL' && node.arguments?.length === 2) {
      const [what, base] = node.arguments;
      if (ts.isStringLiteral(what) && what.text.startsWith('.') && base.getText(source) === 'import.meta.url') refs.push(ref(what.text, what.getStart(source)));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { refs, strings };
}

const folderOf = (path: string): string | null => /^src\/([^/]+)\//.exec(path)?.[1] ?? null;
const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

const SRC = tsFiles('src');
const scanned = new Map([...SRC, ...tsFiles('test'), ...tsFiles('bench')].map((f) => [f, scan(f)]));

function report(title: string, violations: string[]): void {
  assert.ok(violations.length === 0, `${title}:\n  ${violations.join('\n  ')}`);
}

test('every folder of src/ has a layer', () => {
  const folders = new Set(SRC.map((f) => folderOf(f) ?? `(${f}, at the top of src/)`));
  report('folders of src/ missing from FOLDERS in test/unit/layers.test.ts', [...folders].filter((d) => !(d in FOLDERS)));
});

test('layers: no stage imports another, core imports only core, shared layers import no stage or cli', () => {
  const violations: string[] = [];
  for (const file of SRC) {
    const from = folderOf(file);
    if (from === null || !(from in FOLDERS)) continue;
    const layer = FOLDERS[from];
    for (const r of scanned.get(file)!.refs) {
      if (r.target === undefined) continue;
      const to = folderOf(r.target);
      if (to === from) continue;
      const where = `${r.file}:${r.line} imports ${r.target}`;
      if (to === null) violations.push(`${where}, outside src/`);
      else if (!(to in FOLDERS)) violations.push(`${where}, a folder with no layer`);
      else if (!MAY_IMPORT[layer].layers.includes(FOLDERS[to])) violations.push(`${where}: ${MAY_IMPORT[layer].rule}`);
    }
  }
  report('imports across layers the rules forbid', violations);
});

test('kafkajs and @vlasky/zongji are each imported by one module (src/, test/, bench/)', () => {
  const violations: string[] = [];
  for (const [file, { refs }] of scanned) {
    for (const r of refs) {
      const only = ONE_MODULE[packageOf(r.spec)];
      if (only === undefined || file === only.module || file === only.checkedBy) continue;
      violations.push(`${r.file}:${r.line} imports ${r.spec}: only ${only.module} may (import what it exports instead)`);
    }
  }
  report('third-party imports outside their module', violations);
});

test('relative imports and thread entries name files that exist', () => {
  const violations: string[] = [];
  for (const { refs } of scanned.values()) {
    for (const r of refs) if (r.target !== undefined && !existsSync(join(ROOT, r.target))) violations.push(`${r.file}:${r.line}: ${r.spec} (${r.target}) does not exist`);
  }
  report('references to missing files', violations);
});

test('SQL on the _my2pg control schema is only in src/state/', () => {
  const violations: string[] = [];
  for (const file of SRC) {
    if (file.startsWith(CONTROL_SCHEMA_SQL.folder)) continue;
    for (const s of scanned.get(file)!.strings) {
      if (CONTROL_SCHEMA_SQL.pattern.test(s.text)) violations.push(`${file}:${s.line()}: ${s.text.trim().split('\n')[0].slice(0, 100)}`);
    }
  }
  report(`SQL on _my2pg tables outside ${CONTROL_SCHEMA_SQL.folder} (move it to a module there)`, violations);
});
