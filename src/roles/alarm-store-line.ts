// Editing a stored alarm line (the JSON written to siem_alarms.json) as text: set-status and set-tag
// replace one top-level string field and leave every other byte as it was.

import {goQuote} from '../engine/index.js'

/** Index just past the JSON string that opens at `i`. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++
    else if (text[j] === '"') return j + 1
  }
  throw new Error('unterminated string in stored alarm line')
}

/** Index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i]
  if (first === '"') return skipString(text, i)
  if (first === '{' || first === '[') {
    let depth = 0
    for (let j = i; j < text.length; j++) {
      const c = text[j]
      if (c === '"') j = skipString(text, j) - 1
      else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') {
        depth--
        if (depth === 0) return j + 1
      }
    }
    throw new Error('unterminated value in stored alarm line')
  }
  let j = i
  while (j < text.length && !/[,}\]\s]/.test(text[j]!)) j++
  return j
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++
  return i
}

/**
 * Replaces one top-level string field of an alarm line in place. The line is edited as text, not
 * re-encoded, because JSON.parse would round the rules' nanosecond rcvd_time and lose Go's escaping.
 */
export function replaceTopLevelString(line: string, key: string, value: string): string {
  let i = skipSpace(line, 0)
  if (line[i] !== '{') throw new Error('stored alarm line is not a JSON object')
  i = skipSpace(line, i + 1)
  while (i < line.length && line[i] !== '}') {
    const keyEnd = skipString(line, i)
    const name = JSON.parse(line.slice(i, keyEnd)) as string
    i = skipSpace(line, keyEnd)
    if (line[i] !== ':') throw new Error('malformed stored alarm line')
    const valueStart = skipSpace(line, i + 1)
    const valueEnd = skipValue(line, valueStart)
    if (name === key) return line.slice(0, valueStart) + goQuote(value) + line.slice(valueEnd)
    i = skipSpace(line, valueEnd)
    if (line[i] === ',') i = skipSpace(line, i + 1)
  }
  throw new Error(`stored alarm line has no ${key} field`)
}
