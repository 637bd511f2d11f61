/**
 * The published package, as another project sees it: `npm pack`, then an install of the
 * tarball into an empty project with no network (`npm ci --offline`), then every subpath
 * imported from there, a relay started from the package (as a library and as `npx tandem`),
 * the CRDTs loaded with none of the relay's dependencies, and the package's types checked
 * from a TypeScript consumer.
 *
 * Offline: `npm ci` needs no registry metadata when a lockfile pins every tarball (resolved
 * URL + integrity), and the npm cache holds those tarballs since this repository's own
 * install. The consumer's lockfile is therefore derived from the repository's: its
 * production entries (no `dev: true`), same layout, plus the packed tarball.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SUBPATHS = ['tandem', 'tandem/relay', 'tandem/topology', 'tandem/crdt', 'tandem/crdt/core', 'tandem/editor', 'tandem/editor/element', 'tandem/client']
/** Packages only the relay needs: none may load for `tandem/crdt`. */
const RELAY_ONLY = ['hono', '@hono/node-server', 'ws', 'pino', 'pino-pretty', 'classic-level', 'prom-client', 'ioredis', 'jose']

/** The environment for child npm/node processes: no npm_* variables of an outer `npm test` (they would point npm at the repository). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|userconfig)$/i.test(key)) continue
    env[key] = value
  }
  return env
}

let work: string
let consumer: string
let tarball: string
let pkg: { name: string; version: string; dependencies: Record<string, string>; exports: Record<string, unknown> }

async function inConsumer(file: string, args: string[] = [], options: { timeout?: number } = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [...args, file], { cwd: consumer, env: childEnv(), timeout: options.timeout ?? 30_000 })
  return stdout
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-pack-'))
  consumer = join(work, 'consumer')
  await mkdir(consumer)
  // dist/ and editor/dist/ up to date (incremental, about a second when nothing changed).
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, env: childEnv(), timeout: 120_000 })
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: childEnv(), timeout: 60_000 })
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>
  tarball = join(work, info!.filename)
  pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))

  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> }
  const spec = `file:../${info!.filename}`
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: 'consumer', dependencies: { tandem: spec } },
    'node_modules/tandem': {
      version: pkg.version,
      resolved: spec,
      integrity: info!.integrity,
      dependencies: pkg.dependencies,
      bin: { tandem: 'dist/relay/cli.js' },
    },
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry['dev'] === true || entry['link'] === true) continue
    packages[path] = entry
  }
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { tandem: spec } }, null, 2))
  await writeFile(join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2))
  try {
    await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: consumer, env: childEnv(), timeout: 120_000 })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new Error(`offline install of ${tarball} failed (are the repository's dependencies in the npm cache? run npm ci once):\n${e.stdout}\n${e.stderr}`)
  }
}, 240_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

// Child processes (npm, node, tsc) on a shared 2-core machine: generous per-test time.
describe('npm pack → offline install into an empty project', { timeout: 120_000 }, () => {
  test('the tarball holds the compiled code, types, bundles and bin, and no sources or build state', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball])
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''))
    for (const f of ['dist/relay/cli.js', 'dist/relay/index.d.ts', 'dist/relay/storage/compactor-worker.js', 'dist/crdt/index.js', 'dist/editor/element.js', 'editor/dist/tandem-element.js', 'editor/dist/tandem-editor.css', 'editor/dist/index.html']) {
      expect(files).toContain(f)
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(files).not.toContain('dist/.tsbuildinfo')
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toBe(false)
  })

  test('every subpath imports; a relay started from the package stores a CRDT update sent over HTTP; compaction runs the compiled worker without tsx', async () => {
    await writeFile(
      join(consumer, 'use.mjs'),
      `
import * as root from 'tandem'
import { LevelDbStorage } from 'tandem'
import { createRelay } from 'tandem/relay'
import { topologyExtension } from 'tandem/topology'
import { counter } from 'tandem/crdt'
import * as core from 'tandem/crdt/core'
import { mountEditor } from 'tandem/editor'
import { defineTandemEditor, TandemEditorElement } from 'tandem/editor/element'
import { TandemClient, verifyWebhook } from 'tandem/client'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'

const checks = {
  root: typeof root.createRelay,
  topology: typeof topologyExtension,
  core: Object.keys(core).length > 0,
  mountEditor: typeof mountEditor,
  element: typeof defineTandemEditor + ',' + typeof TandemEditorElement,
  bundle: existsSync(fileURLToPath(import.meta.resolve('tandem/editor/tandem-element.js'))),
  css: existsSync(fileURLToPath(import.meta.resolve('tandem/editor/style.css'))),
}
const data = mkdtempSync(join(tmpdir(), 'tandem-pack-data-'))
const relay = await createRelay({ port: 0, data, storage: 'leveldb', logLevel: 'silent' })
const doc = new Y.Doc()
counter(doc, 'likes').increment(3)
const post = await fetch(relay.httpUrl + '/api/rooms/pack/update', { method: 'POST', body: Y.encodeStateAsUpdate(doc) })
const stored = await (await fetch(relay.httpUrl + '/api/rooms/pack/update')).arrayBuffer()
const back = new Y.Doc()
Y.applyUpdate(back, new Uint8Array(stored))
checks.post = post.status
checks.likes = counter(back, 'likes').value
// tandem/client's JSON edit on the same room: the counter goes on from 3
checks.client = typeof verifyWebhook + ',' + (await new TandemClient({ url: relay.httpUrl }).edit('pack', [{ op: 'increment', name: 'likes', by: 2 }])).ok
const edited = new Y.Doc()
Y.applyUpdate(edited, new Uint8Array(await (await fetch(relay.httpUrl + '/api/rooms/pack/update')).arrayBuffer()))
checks.edited = counter(edited, 'likes').value
checks.demo = (await fetch(relay.httpUrl + '/')).status
await relay.close()
rmSync(data, { recursive: true, force: true })

// A merge compaction runs in the compiled worker (dist/relay/storage/compactor-worker.js):
// no TypeScript loader is installed here.
checks.tsx = existsSync(join(process.cwd(), 'node_modules/tsx'))
const store = await LevelDbStorage.open(mkdtempSync(join(tmpdir(), 'tandem-pack-store-')))
const source = new Y.Doc()
for (const word of ['one', 'two', 'three']) {
  const before = Y.encodeStateVector(source)
  source.getText('t').insert(source.getText('t').length, word + ' ')
  await store.append('log', [Y.encodeStateAsUpdate(source, before)], Y.encodeStateVector(source))
}
await store.compact('log')
const compacted = await store.load('log')
const replay = new Y.Doc()
for (const u of compacted) Y.applyUpdate(replay, u)
checks.compacted = compacted.length + ':' + replay.getText('t').toString()
await store.close()
process.stdout.write(JSON.stringify(checks))
`,
    )
    const checks = JSON.parse(await inConsumer('use.mjs'))
    expect(checks).toEqual({
      root: 'function',
      topology: 'function',
      core: true,
      mountEditor: 'function',
      element: 'function,function',
      bundle: true,
      css: true,
      post: 200,
      likes: 3,
      client: 'function,true',
      edited: 5,
      // createRelay's default static dir is relative to the cwd: the consumer has none.
      demo: 404,
      tsx: false,
      compacted: '1:one two three ',
    })
  })

  test('tandem/crdt loads without any of the relay’s dependencies', async () => {
    await writeFile(
      join(consumer, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  process.stdout.write(result.url + '\\n')
  return result
}`,
    )
    await writeFile(join(consumer, 'register.mjs'), `import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n`)
    await writeFile(
      join(consumer, 'crdt.mjs'),
      `import * as Y from 'yjs'\nimport { orSet } from 'tandem/crdt'\nconst s = orSet(new Y.Doc(), 'tags'); s.add('a'); process.stdout.write('values ' + JSON.stringify([...s.values()]) + '\\n')\n`,
    )
    const out = await inConsumer('crdt.mjs', ['--import', './register.mjs'])
    const urls = out.split('\n').filter((line) => line.startsWith('file:'))
    expect(out).toContain('values ["a"]')
    expect(urls.some((u) => u.includes('/node_modules/tandem/dist/crdt/'))).toBe(true)
    expect(urls.filter((u) => u.includes('/node_modules/tandem/dist/relay/'))).toEqual([])
    for (const dep of RELAY_ONLY) expect(urls.filter((u) => u.includes(`/node_modules/${dep}/`))).toEqual([])
  })

  test('tandem/client loads without any of the relay’s dependencies (it runs in browsers)', async () => {
    await writeFile(
      join(consumer, 'client.mjs'),
      `import { TandemClient, SseParser } from 'tandem/client'\nconst events = new SseParser().push('id: 1\\ndata: x\\n\\n'); process.stdout.write('client ' + typeof TandemClient + ' ' + events.length + '\\n')\n`,
    )
    const out = await inConsumer('client.mjs', ['--import', './register.mjs'])
    const urls = out.split('\n').filter((line) => line.startsWith('file:'))
    expect(out).toContain('client function 1')
    expect(urls.some((u) => u.includes('/node_modules/tandem/dist/client/'))).toBe(true)
    expect(urls.filter((u) => u.includes('/node_modules/tandem/dist/relay/'))).toEqual([])
    for (const dep of [...RELAY_ONLY, 'yjs', 'prosemirror-model']) expect(urls.filter((u) => u.includes(`/node_modules/${dep}/`))).toEqual([])
  })

  test('npx tandem: --version, then a relay serving the package’s demo page and /health', async () => {
    const version = await run('npx', ['--offline', 'tandem', '--version'], { cwd: consumer, env: childEnv(), timeout: 30_000 })
    expect(version.stdout.trim()).toBe(pkg.version)

    // The bin npx just ran, started directly: npm's own start-up would only add seconds.
    const bin = join(consumer, 'node_modules/.bin/tandem')
    const child = spawn(bin, ['--port', '0', '--storage', 'memory', '--log-format', 'json'], { cwd: consumer, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const httpUrl = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const m = /listening on (http:\/\/\S+)/.exec(out)
          if (m) resolve(m[1]!)
        })
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
        child.once('exit', (code) => reject(new Error(`tandem exited with ${code}:\n${out}`)))
      })
      // JSON log lines when stdout is not a terminal; the demo comes from the package's editor/dist.
      expect((await fetch(`${httpUrl}/health`)).status).toBe(200)
      const page = await fetch(`${httpUrl}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<html')
      expect((await fetch(`${httpUrl}/tandem-element.js`)).status).toBe(200)
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  })

  test('a TypeScript consumer typechecks against the package’s declarations', async () => {
    await writeFile(
      join(consumer, 'consumer.ts'),
      `
import { createRelay, type RelayConfig, type StorageAdapter } from 'tandem'
import { topologyExtension, type Topology } from 'tandem/topology'
import { counter, orSet, type Counter } from 'tandem/crdt'
import { mountEditor, type EditorHandle, type SavedState } from 'tandem/editor'
import { defineTandemEditor, type TandemEditorEventMap } from 'tandem/editor/element'
import { TandemClient, type EditOp, type FeedEvent } from 'tandem/client'
import * as Y from 'yjs'

const config: Partial<RelayConfig> = { port: 0, storage: 'memory' }
export const start: ReturnType<typeof createRelay> = createRelay(config)
export const topology: Topology = 'mesh'
export const ext = topologyExtension({ id: 'a', peers: [], topology, hub: undefined, peerSecret: undefined, maxMessageBytes: 1 })
const likes: Counter = counter(new Y.Doc(), 'likes')
export const n: number = likes.value
export const tags: boolean = orSet<string>(new Y.Doc(), 'tags').has('x')
export type Mount = typeof mountEditor
export const saved: SavedState = 'saved'
export let handle: EditorHandle | undefined
export let storage: StorageAdapter | undefined
export const define: typeof defineTandemEditor = defineTandemEditor
export type SavedEvent = TandemEditorEventMap['saved']
export const ops: EditOp[] = [{ op: 'insertText', at: 'end', text: 'x', marks: [{ type: 'strong' }] }, { op: 'increment', name: 'likes', by: 2 }]
export const edited = new TandemClient({ url: 'http://127.0.0.1:1234' }).edit('doc', ops)
export const onEvent = (e: FeedEvent): string => (e.type === 'changed' ? e.stateVector : e.reason)
`,
    )
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['consumer.ts', 'bad.ts'],
      }),
    )
    // bad.ts proves the types are real ones, not any: a wrong use is an error (the only one).
    await writeFile(join(consumer, 'bad.ts'), `import { counter } from 'tandem/crdt'\nimport * as Y from 'yjs'\nexport const s: string = counter(new Y.Doc(), 'x').value\n`)
    const tsc = join(ROOT, 'node_modules/.bin/tsc')
    expect(existsSync(tsc)).toBe(true)
    const output = await run(tsc, ['-p', 'tsconfig.json'], { cwd: consumer, env: childEnv(), timeout: 90_000 }).then(
      (r) => r.stdout,
      (e: { stdout: string }) => e.stdout,
    )
    const errors = output.split('\n').filter((line) => /error TS\d+/.test(line))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^bad\.ts.*TS2322/)
  })
})
