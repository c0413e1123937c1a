// Backlog (= alarm) ids: short random ids like upstream's shortid ("88bVUMBSp"), 9 characters from a
// 64-symbol alphabet. Injected into the engine so tests get predictable ids.

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-'
const ID_LENGTH = 9

export type IdGenerator = () => string

export const randomIds: IdGenerator = () => {
  const bytes = new Uint8Array(ID_LENGTH)
  globalThis.crypto.getRandomValues(bytes)
  let id = ''
  for (const byte of bytes) id += ALPHABET[byte & 63]
  return id
}

/** Deterministic ids ("b000001", "b000002", ...) for tests and reproducible replays. */
export function sequentialIds(prefix = 'b'): IdGenerator {
  let next = 0
  return () => `${prefix}${String(++next).padStart(6, '0')}`
}
