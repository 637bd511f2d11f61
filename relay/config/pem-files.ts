/**
 * PEM files named by flags (`--tls-cert`, `--tls-key`, `--peer-ca`): read once at start, each
 * checked to hold PEM, with a {@link ConfigError} that names the flag and the file when it
 * cannot be read — a relay never starts with half its TLS.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { ConfigError } from './config.ts'

/** A certificate chain and its private key, as a TLS server takes them. */
export interface TlsMaterial {
  cert: Buffer
  key: Buffer
}

/** Reads the PEM file `path` given with `flag`; throws a ConfigError saying which and why. */
export function readPemFile(flag: string, path: string): Buffer {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new ConfigError(`${flag} ${path}: cannot read it (${e.code ?? e.message})`)
  }
  if (!bytes.includes('-----BEGIN ')) throw new ConfigError(`${flag} ${path}: not a PEM file (no -----BEGIN line)`)
  return bytes
}

/** The relay's certificate and key when `tlsCert` and `tlsKey` are set, else undefined. */
export function readTlsMaterial(config: { tlsCert?: string | undefined; tlsKey?: string | undefined }): TlsMaterial | undefined {
  if (config.tlsCert === undefined && config.tlsKey === undefined) return undefined
  if (config.tlsCert === undefined || config.tlsKey === undefined) throw new ConfigError('--tls-cert and --tls-key go together')
  return { cert: readPemFile('--tls-cert', config.tlsCert), key: readPemFile('--tls-key', config.tlsKey) }
}
