/**
 * Builds the editor bundle and the demo page into editor/dist/:
 * - `tandem-editor.js` (+ `.css`): the public module (editor/index.ts) as one self-contained
 *   ES module, for pages that import it without a bundler;
 * - `tandem-element.js`: `<tandem-editor>` (editor/element.ts) with its stylesheet, one classic
 *   script for any page;
 * - `index.html`, `demo.js`, `demo.css`: the demo page the relay serves at `/`.
 *
 * `npx tsx editor/build.ts` skips the work when nothing under editor/ or crdt/ (nor the
 * lockfile) is newer than the last build; `--force` rebuilds anyway.
 */
import * as esbuild from 'esbuild'
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const editorDir = dirname(fileURLToPath(import.meta.url))
const root = resolve(editorDir, '..')
/** Where the build writes. */
export const distDir = join(editorDir, 'dist')
const stampFile = join(distDir, '.build-stamp')

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => null)
  if (!info) return 0
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of await readdir(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue
    newest = Math.max(newest, await newestMtime(join(path, entry)))
  }
  return newest
}

async function upToDate(): Promise<boolean> {
  const built = await stat(stampFile).catch(() => null)
  if (!built) return false
  const inputs = await Promise.all([editorDir, join(root, 'crdt'), join(root, 'package-lock.json')].map(newestMtime))
  return Math.max(...inputs) <= built.mtimeMs
}

/** Result of {@link buildEditor}. */
export interface BuildResult {
  /** False when the previous build was still up to date. */
  built: boolean
  distDir: string
}

/** Builds editor/dist unless it is up to date (or `force`). */
export async function buildEditor(options: { force?: boolean } = {}): Promise<BuildResult> {
  if (!options.force && (await upToDate())) return { built: false, distDir }
  await mkdir(distDir, { recursive: true })
  const common: esbuild.BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  }
  await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(editorDir, 'index.ts')], outfile: join(distDir, 'tandem-editor.js') }),
    esbuild.build({ ...common, entryPoints: [join(editorDir, 'demo', 'demo.ts')], outfile: join(distDir, 'demo.js') }),
    // <tandem-editor> for any page with one classic script tag (an IIFE needs no CORS when the
    // page loads it from another origin); the stylesheet is inlined and added once.
    esbuild.build({
      ...common,
      format: 'iife',
      stdin: {
        contents: "import { defineTandemEditor } from './element.ts'\nimport styles from './editor.css'\ndefineTandemEditor({ styles })\n",
        resolveDir: editorDir,
        sourcefile: 'tandem-element-entry.ts',
        loader: 'ts',
      },
      loader: { '.css': 'text' },
      outfile: join(distDir, 'tandem-element.js'),
    }),
    copyFile(join(editorDir, 'editor.css'), join(distDir, 'tandem-editor.css')),
    copyFile(join(editorDir, 'demo', 'index.html'), join(distDir, 'index.html')),
    copyFile(join(editorDir, 'demo', 'demo.css'), join(distDir, 'demo.css')),
  ])
  await writeFile(stampFile, new Date().toISOString() + '\n')
  return { built: true, distDir }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const result = await buildEditor({ force: process.argv.includes('--force') })
  const ms = Math.round(performance.now() - started)
  process.stdout.write(result.built ? `editor: built ${distDir} in ${ms} ms\n` : `editor: ${distDir} is up to date\n`)
}
