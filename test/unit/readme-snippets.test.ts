import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const READMES = ['README.md', 'packages/client/README.md'];

interface Snippet {
  readme: string;
  line: number;
  code: string;
}

/** The ```ts blocks of a Markdown file, with the line each starts on. */
function tsSnippets(readme: string): Snippet[] {
  const lines = fs.readFileSync(path.join(ROOT, readme), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    snippets.push({ readme, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return snippets;
}

/**
 * A snippet as a module: its imports stay on top, the rest runs inside an async function, so the top-level `await`
 * the snippets use type-checks in a CommonJS project.
 */
function asModule(code: string): string {
  const imports = code.split('\n').filter((l) => l.startsWith('import '));
  const body = code.split('\n').filter((l) => !l.startsWith('import '));
  return `${imports.join('\n')}\nexport async function snippet(): Promise<void> {\n${body.join('\n')}\n}\n`;
}

/**
 * The TypeScript the READMEs show is what a user pastes: it must compile against this repository's client package
 * (imported by its published name) and generated code, or the documentation has drifted from the API.
 */
describe('README TypeScript snippets', () => {
  const snippets = READMES.flatMap(tsSnippets);

  it('are there to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    expect(snippets.some((s) => s.code.includes("from '@billing-adapter/client'"))).toBe(true);
  });

  it('type-check against the client package', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-snippets-'));
    try {
      const files = snippets.map((snippet, i) => {
        const file = path.join(dir, `snippet-${i}.ts`);
        fs.writeFileSync(file, asModule(snippet.code));
        return { file, snippet };
      });
      const program = ts.createProgram(
        files.map((f) => f.file),
        {
          strict: true,
          noEmit: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.CommonJS,
          moduleResolution: ts.ModuleResolutionKind.Node10,
          esModuleInterop: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
          baseUrl: ROOT,
          paths: { '@billing-adapter/client': ['packages/client/src'] },
        },
      );
      const problems = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = files.find((f) => f.file === d.file?.fileName);
        const origin = where ? `${where.snippet.readme} snippet at line ${where.snippet.line}` : d.file?.fileName;
        return `${origin}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
