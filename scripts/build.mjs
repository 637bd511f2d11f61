#!/usr/bin/env node
/**
 * `npm run build` (also run by `prepare` and `prestart`): compiles relay/, crdt/ and editor/ to
 * dist/ with tsc (tsconfig.build.json: JavaScript + .d.ts, .ts import paths rewritten to .js),
 * then builds the browser bundles into editor/dist/ (editor/build.ts, esbuild). Both steps are
 * incremental, so a start with nothing changed costs about a second.
 *
 * Plain JavaScript on purpose: it must run before anything is compiled. TypeScript, tsx and
 * esbuild are dev dependencies; without them (an install with --omit=dev) an existing build
 * is used as it is, and a missing one is a clear error.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const outputs = [join(root, 'dist', 'relay', 'cli.js'), join(root, 'editor', 'dist', 'tandem-editor.js')]

if (![bin('tsc'), bin('tsx')].every((path) => existsSync(path))) {
  if (outputs.every((path) => existsSync(path))) {
    process.stdout.write('build: typescript/tsx not installed (dev dependencies omitted); using the existing dist/ as it is\n')
    process.exit(0)
  }
  process.stderr.write('build: dist/ is missing and the build tools are not installed: run `npm install` (with dev dependencies)\n')
  process.exit(1)
}

const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
const started = performance.now()
run(bin('tsc'), ['-p', 'tsconfig.build.json'])
process.stdout.write(`build: dist/ compiled in ${Math.round(performance.now() - started)} ms\n`)
run(bin('tsx'), ['editor/build.ts'])
