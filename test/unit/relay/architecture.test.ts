/**
 * relay/ reads as its architecture (README.md, "The relay" → "Layout"): only the public API and the CLI
 * at the top, one folder per concern, each importing only the folders its row of the layout
 * table names, and no circle of imports between files, type imports included. The allowed
 * imports are read from the README's table, so the documentation and the code cannot drift.
 */
import { describe, expect, it } from 'vitest'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const RELAY = fileURLToPath(new URL('../../../relay/', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

/** Every relative import of a file (static, re-exports, type-only and dynamic), as paths under relay/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] as string)
  return specs.map((s) => relative(RELAY, normalize(join(dirname(file), s))))
}

const folderOf = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : '.')

/** Whether an import target lies outside relay/ (the editor's document layout, say). */
const outside = (path: string): boolean => path.startsWith('../')

/** The README's layout table: folder → the folders it may import. */
function layoutRules(): Map<string, Set<string>> {
  const readme = readFileSync(join(RELAY, '..', 'README.md'), 'utf8')
  const start = readme.indexOf('\n### Layout', readme.indexOf('\n## The relay'))
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1))
  const rules = new Map<string, Set<string>>()
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z-]+)\/` \|[^|]*\| ([^|]*) \|$/.exec(line.trim())
    if (!m) continue
    // a folder of relay/ (`room/`), or a folder or file outside it (`../editor/blocks/`, `../editor/schema.ts`)
    const allowed = [...(m[2] as string).matchAll(/`((?:\.\.\/)?[a-z-/]+(?:\.ts)?)`/g)].map((x) => (x[1] as string).replace(/\/$/, ''))
    rules.set(m[1] as string, new Set(allowed))
  }
  return rules
}

const files = sources(RELAY).map((f) => relative(RELAY, f))
const graph = new Map(files.map((f) => [f, importsOf(join(RELAY, f)).filter((t) => t.endsWith('.ts'))]))

describe('relay/ layout', () => {
  it('keeps only index.ts and cli.ts at the top', () => {
    expect(files.filter((f) => !f.includes('/')).sort()).toEqual(['cli.ts', 'index.ts'])
  })

  it('has a layout row for every folder, and every import follows its folder\'s row', () => {
    const rules = layoutRules()
    const folders = [...new Set(files.filter((f) => f.includes('/')).map(folderOf))].sort()
    expect([...rules.keys()].sort()).toEqual(folders)
    const broken: string[] = []
    for (const [file, targets] of graph) {
      const from = folderOf(file)
      if (from === '.') continue
      for (const target of targets) {
        const allowed = rules.get(from)
        const ok = outside(target) ? Boolean(allowed?.has(dirname(target)) || allowed?.has(target)) : folderOf(target) === from || Boolean(allowed?.has(folderOf(target)))
        if (!ok) broken.push(`${file} → ${target}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('has no circle of imports between files, type imports included', () => {
    const cycles: string[] = []
    const state = new Map<string, 'visiting' | 'done'>()
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '))
        return
      }
      state.set(file, 'visiting')
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file])
      state.set(file, 'done')
    }
    for (const file of graph.keys()) visit(file, [])
    expect(cycles).toEqual([])
  })

  it('resolves every relative import to a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => (outside(t) ? !existsSync(join(RELAY, t)) : !graph.has(t))).map((t) => `${file} → ${t}`),
    )
    expect(missing).toEqual([])
  })
})
