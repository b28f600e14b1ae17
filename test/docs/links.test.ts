// The documentation stands on its own: every relative link in the repository's Markdown resolves to
// a file of the repository (and a #fragment to a heading of it), and nothing points outside the
// clone — no path into a sibling folder, no file name of a document the repository does not have.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SKIPPED_DIRS = new Set(['.git', 'node_modules', 'data', 'dist']);

/** The repository's files: tracked and not-yet-added ones (git), or a walk of the tree without git. */
function repositoryFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (git.status === 0 && git.stdout) return git.stdout.split('\0').filter(Boolean).filter((f) => statSync(join(ROOT, f), { throwIfNoEntry: false })?.isFile());
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) { if (!SKIPPED_DIRS.has(e.name)) walk(path); } else if (e.isFile()) out.push(path);
    }
  };
  walk('');
  return out;
}

const FILES = repositoryFiles();
const FILE_SET = new Set(FILES);
const DIR_SET = new Set(FILES.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
const MARKDOWN = FILES.filter((f) => f.endsWith('.md'));

/** Markdown without fenced code blocks, which hold no links or headings. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** …and without inline code, where link syntax is only text. */
function proseOf(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const inline = [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1]!);
  const definitions = [...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...definitions];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  return anchors;
}

test('the repository has Markdown documentation to check', () => {
  for (const doc of ['README.md', 'migrations/README.md', 'docs/ATTACK-CATALOGUE.md', 'docs/THREAT-MODEL.md', 'docs/SECURITY-TESTING.md']) {
    assert.ok(FILE_SET.has(doc), `${doc} is in the repository`);
  }
});

test('every relative link in every Markdown file resolves inside the repository', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of MARKDOWN) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const target of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: … — not a path
      checked++;
      const [pathPart = '', fragment] = target.split('#', 2) as [string, string | undefined];
      const path = decodeURIComponent(pathPart.split('?')[0]!);
      const resolved = path ? resolve(ROOT, dirname(file), path) : join(ROOT, file);
      const inRepo = relative(ROOT, resolved).split(sep).join('/');
      if (inRepo === '..' || inRepo.startsWith('../')) { broken.push(`${file}: ${target} leaves the repository`); continue; }
      const isFile = FILE_SET.has(inRepo);
      if (!isFile && !DIR_SET.has(inRepo) && inRepo !== '') { broken.push(`${file}: ${target} → ${inRepo} is not in the repository`); continue; }
      if (fragment && isFile && inRepo.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(fragment.toLowerCase())) {
        broken.push(`${file}: ${target} → no heading #${fragment} in ${inRepo}`);
      }
    }
  }
  assert.ok(checked > 0, 'found links to check');
  assert.deepEqual(broken, []);
});

test('no file of the repository refers to the shared folder beside the clone', () => {
  // A relative path up to a folder named "shared" is fine where it is a folder of the repository
  // (src/servers/shared, seen from its siblings); anywhere else it points at what a clone lacks.
  const offenders: string[] = [];
  for (const file of FILES) {
    const bytes = readFileSync(join(ROOT, file));
    if (bytes.includes(0)) continue;
    for (const m of bytes.toString('utf8').matchAll(/((?:\.\.\/)+shared)(?![\w.-])/g)) {
      const inRepo = relative(ROOT, resolve(ROOT, dirname(file), m[1]!)).split(sep).join('/');
      if (!DIR_SET.has(inRepo)) offenders.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, [], 'these files point at a shared folder a clone does not have');
});

test('every Markdown document named in the repository exists in it (migrations excepted: applied files are frozen)', () => {
  const names = new Set(MARKDOWN.map((f) => f.split('/').pop()!));
  const missing: string[] = [];
  for (const file of FILES) {
    if (file.startsWith('migrations/')) continue; // migrations/README.md explains the frozen SQL comments
    const bytes = readFileSync(join(ROOT, file));
    if (bytes.includes(0)) continue;
    for (const m of bytes.toString('utf8').matchAll(/(?<![\w.-])([\w.-]+\.md)\b/g)) {
      if (!names.has(m[1]!)) missing.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual([...new Set(missing)], [], 'cite a document of the repository instead (docs/DESIGN.md §N, docs/ATTACK-CATALOGUE.md)');
});
