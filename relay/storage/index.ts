/** Storage adapters behind one interface. @module */
export type { StorageAdapter } from './types.ts'
export { MemoryStorage } from './memory.ts'
export { LevelDbStorage, type LevelDbOptions, type Durability } from './leveldb.ts'
