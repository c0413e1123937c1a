// JSON with Go's encoding/json semantics, because upstream Dsiem's files and events are decoded by it:
// object keys match struct fields case-insensitively, integer fields reject `1.0` and `"1"`, `null`
// leaves the zero value, unknown keys are ignored. JSON.parse cannot tell `1001.0` from `1001`, so this
// is a small parser of our own that keeps non-integral (and unsafe) number literals as text. It can also
// record where every value starts, so a type error in a directive file is reported with line and column.
// The encoder side reproduces Go's string escaping (HTML-safe: <, >, & as \u003c, \u003e, \u0026).

/** A number literal JSON.parse would lose information on: a fraction/exponent, or beyond 2^53. */
export class JsonNumberLiteral {
  readonly text: string
  readonly integral: boolean

  constructor(text: string, integral: boolean) {
    this.text = text
    this.integral = integral
  }
}

export type JsonValue = null | boolean | number | string | JsonNumberLiteral | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

/**
 * Every key/value pair, in input order, of objects that repeat a key (a plain object keeps only the
 * last value, in the position of the first occurrence). Objects without repeats are not listed.
 */
const duplicateEntries = new WeakMap<JsonObject, [string, JsonValue][]>()

/** Offsets of values inside their parent container, recorded only when asked for. */
export type JsonPositions = WeakMap<object, Map<string | number, number>>

export type JsonPath = readonly (string | number)[]

export class JsonSyntaxError extends Error {
  readonly offset: number

  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
    this.name = 'JsonSyntaxError'
  }
}

/** A value whose JSON type does not fit the Go field it lands in. */
export class JsonTypeError extends Error {
  readonly path: JsonPath

  constructor(message: string, path: JsonPath) {
    super(message)
    this.path = path
    this.name = 'JsonTypeError'
  }
}

export interface ParsedJson {
  value: JsonValue
  positions: JsonPositions | undefined
}

export function parseJson(text: string, options: {positions?: boolean} = {}): ParsedJson {
  const parser = new Parser(text, options.positions === true)
  parser.skipWhitespace()
  if (parser.pos >= text.length) throw new JsonSyntaxError('unexpected end of JSON input', parser.pos)
  const value = parser.parseValue()
  parser.skipWhitespace()
  if (parser.pos < text.length) {
    throw new JsonSyntaxError(
      `invalid character ${describeChar(text, parser.pos)} after top-level value`,
      parser.pos,
    )
  }
  return {value, positions: parser.positions}
}

/** Line and column (both 1-based) of a character offset, for error messages. */
export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return {line, column: end - lineStart + 1}
}

/** Where the value at `path` starts, or undefined if positions were not recorded. */
export function offsetOfPath(parsed: ParsedJson, path: JsonPath): number | undefined {
  if (parsed.positions === undefined) return undefined
  let node: JsonValue = parsed.value
  let offset: number | undefined
  for (const key of path) {
    if (node === null || typeof node !== 'object' || node instanceof JsonNumberLiteral) break
    const childOffsets = parsed.positions.get(node)
    const childOffset = childOffsets?.get(key)
    if (childOffset === undefined) break
    offset = childOffset
    node = Array.isArray(node) ? (node[key as number] ?? null) : ((node as JsonObject)[key as string] ?? null)
  }
  return offset
}

function describeChar(text: string, pos: number): string {
  const ch = text[pos]
  if (ch === undefined) return 'end of input'
  return `'${ch === '\n' ? '\\n' : ch}'`
}

class Parser {
  pos = 0
  readonly positions: JsonPositions | undefined
  private readonly text: string

  constructor(text: string, trackPositions: boolean) {
    this.text = text
    this.positions = trackPositions ? new WeakMap() : undefined
  }

  skipWhitespace(): void {
    const text = this.text
    let pos = this.pos
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === 32 || c === 10 || c === 13 || c === 9) pos++
      else break
    }
    this.pos = pos
  }

  parseValue(): JsonValue {
    const c = this.text.charCodeAt(this.pos)
    switch (c) {
      case 123: // {
        return this.parseObject()
      case 91: // [
        return this.parseArray()
      case 34: // "
        return this.parseString()
      case 116: // t
        return this.parseLiteral('true', true)
      case 102: // f
        return this.parseLiteral('false', false)
      case 110: // n
        return this.parseLiteral('null', null)
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.parseNumber()
        if (Number.isNaN(c)) throw new JsonSyntaxError('unexpected end of JSON input', this.pos)
        throw new JsonSyntaxError(
          `invalid character ${describeChar(this.text, this.pos)} looking for beginning of value`,
          this.pos,
        )
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length
      return value
    }
    if (this.pos + word.length > this.text.length && word.startsWith(this.text.slice(this.pos))) {
      throw new JsonSyntaxError('unexpected end of JSON input', this.text.length)
    }
    throw new JsonSyntaxError(`invalid literal at ${describeChar(this.text, this.pos)}`, this.pos)
  }

  private parseObject(): JsonObject {
    const object = Object.create(null) as JsonObject
    const offsets = this.positions ? new Map<string | number, number>() : undefined
    if (offsets) this.positions!.set(object, offsets)
    let entries: [string, JsonValue][] | undefined
    this.pos++ // {
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++
      return object
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 34) {
        if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected end of JSON input', this.pos)
        throw new JsonSyntaxError(
          `invalid character ${describeChar(this.text, this.pos)} looking for beginning of object key string`,
          this.pos,
        )
      }
      const key = this.parseString()
      this.skipWhitespace()
      if (this.text.charCodeAt(this.pos) !== 58) {
        if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected end of JSON input', this.pos)
        throw new JsonSyntaxError(
          `invalid character ${describeChar(this.text, this.pos)} after object key`,
          this.pos,
        )
      }
      this.pos++
      this.skipWhitespace()
      offsets?.set(key, this.pos)
      if (entries === undefined && key in object) {
        // A repeated key: Go assigns each occurrence in order (the last wins, but an earlier bad value
        // is still an error), so from here on keep every pair for forEachGoField.
        entries = Object.keys(object).map((k): [string, JsonValue] => [k, object[k] as JsonValue])
        duplicateEntries.set(object, entries)
      }
      const value = this.parseValue()
      object[key] = value
      entries?.push([key, value])
      this.skipWhitespace()
      const c = this.text.charCodeAt(this.pos)
      if (c === 44) {
        this.pos++
        this.skipWhitespace()
        continue
      }
      if (c === 125) {
        this.pos++
        return object
      }
      if (Number.isNaN(c)) throw new JsonSyntaxError('unexpected end of JSON input', this.pos)
      throw new JsonSyntaxError(
        `invalid character ${describeChar(this.text, this.pos)} after object key:value pair`,
        this.pos,
      )
    }
  }

  private parseArray(): JsonValue[] {
    const array: JsonValue[] = []
    const offsets = this.positions ? new Map<string | number, number>() : undefined
    if (offsets) this.positions!.set(array, offsets)
    this.pos++ // [
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++
      return array
    }
    for (;;) {
      offsets?.set(array.length, this.pos)
      array.push(this.parseValue())
      this.skipWhitespace()
      const c = this.text.charCodeAt(this.pos)
      if (c === 44) {
        this.pos++
        this.skipWhitespace()
        continue
      }
      if (c === 93) {
        this.pos++
        return array
      }
      if (Number.isNaN(c)) throw new JsonSyntaxError('unexpected end of JSON input', this.pos)
      throw new JsonSyntaxError(
        `invalid character ${describeChar(this.text, this.pos)} after array element`,
        this.pos,
      )
    }
  }

  private parseString(): string {
    const text = this.text
    const start = ++this.pos
    let pos = start
    // Fast path: no escapes.
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === 34) {
        this.pos = pos + 1
        return text.slice(start, pos)
      }
      if (c === 92) break
      if (c < 32 || Number.isNaN(c)) return this.stringError(pos)
      pos++
    }
    let out = text.slice(start, pos)
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === 34) {
        this.pos = pos + 1
        return out
      }
      if (c < 32 || Number.isNaN(c)) return this.stringError(pos)
      if (c !== 92) {
        out += text[pos]
        pos++
        continue
      }
      const e = text.charCodeAt(pos + 1)
      switch (e) {
        case 34:
          out += '"'
          break
        case 92:
          out += '\\'
          break
        case 47:
          out += '/'
          break
        case 98:
          out += '\b'
          break
        case 102:
          out += '\f'
          break
        case 110:
          out += '\n'
          break
        case 114:
          out += '\r'
          break
        case 116:
          out += '\t'
          break
        case 117: {
          const hex = text.slice(pos + 2, pos + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            if (pos + 6 > text.length) throw new JsonSyntaxError('unexpected end of JSON input', text.length)
            throw new JsonSyntaxError('invalid character in \\u hexadecimal character escape', pos + 2)
          }
          const code = parseInt(hex, 16)
          pos += 6
          if (code < 0xd800 || code > 0xdfff) {
            out += String.fromCharCode(code)
            continue
          }
          // Go pairs a high surrogate with an escaped low one; anything else becomes U+FFFD.
          const next = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(text.slice(pos, pos + 6))
          if (code < 0xdc00 && next !== null) {
            out += String.fromCharCode(code, parseInt(next[1]!, 16))
            pos += 6
          } else {
            out += '\ufffd'
          }
          continue
        }
        default:
          if (Number.isNaN(e)) throw new JsonSyntaxError('unexpected end of JSON input', pos + 1)
          throw new JsonSyntaxError(
            `invalid character ${describeChar(text, pos + 1)} in string escape code`,
            pos + 1,
          )
      }
      pos += 2
    }
  }

  private stringError(pos: number): never {
    if (pos >= this.text.length) throw new JsonSyntaxError('unexpected end of JSON input', pos)
    throw new JsonSyntaxError(`invalid character ${describeChar(this.text, pos)} in string literal`, pos)
  }

  private parseNumber(): number | JsonNumberLiteral {
    const text = this.text
    const start = this.pos
    let pos = start
    if (text.charCodeAt(pos) === 45) pos++
    const firstDigit = text.charCodeAt(pos)
    if (firstDigit === 48) {
      pos++
    } else if (firstDigit >= 49 && firstDigit <= 57) {
      while (isDigit(text.charCodeAt(pos))) pos++
    } else {
      if (Number.isNaN(firstDigit)) throw new JsonSyntaxError('unexpected end of JSON input', pos)
      throw new JsonSyntaxError(`invalid character ${describeChar(text, pos)} in numeric literal`, pos)
    }
    let integral = true
    if (text.charCodeAt(pos) === 46) {
      integral = false
      pos++
      if (!isDigit(text.charCodeAt(pos))) {
        throw new JsonSyntaxError(`invalid character ${describeChar(text, pos)} after decimal point`, pos)
      }
      while (isDigit(text.charCodeAt(pos))) pos++
    }
    const e = text.charCodeAt(pos)
    if (e === 101 || e === 69) {
      integral = false
      pos++
      const sign = text.charCodeAt(pos)
      if (sign === 43 || sign === 45) pos++
      if (!isDigit(text.charCodeAt(pos))) {
        throw new JsonSyntaxError(`invalid character ${describeChar(text, pos)} in exponent`, pos)
      }
      while (isDigit(text.charCodeAt(pos))) pos++
    }
    this.pos = pos
    const literal = text.slice(start, pos)
    if (integral) {
      const value = Number(literal)
      // Go integers have no negative zero.
      if (Number.isSafeInteger(value)) return value === 0 ? 0 : value
    }
    return new JsonNumberLiteral(literal, integral)
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

// ---------------------------------------------------------------------------------------------
// Decoding into Go-shaped fields

export type GoFieldType = 'string' | 'int' | 'int64' | 'uint64' | 'bool' | '[]int' | '[]string'

/** The JSON kind of a value as Go's decoder names it in type errors. */
export function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return 'string'
  if (typeof value === 'number' || value instanceof JsonNumberLiteral) return 'number'
  if (typeof value === 'boolean') return 'bool'
  if (Array.isArray(value)) return 'array'
  return 'object'
}

function typeError(value: JsonValue, field: string, goType: string, path: JsonPath): JsonTypeError {
  const what =
    value instanceof JsonNumberLiteral
      ? `number ${value.text}`
      : typeof value === 'number'
        ? `number ${value}`
        : jsonTypeName(value)
  return new JsonTypeError(`cannot unmarshal ${what} into Go struct field ${field} of type ${goType}`, path)
}

export function decodeGoString(value: JsonValue, field: string, path: JsonPath): string | undefined {
  if (typeof value === 'string') return value
  if (value === null) return undefined
  throw typeError(value, field, 'string', path)
}

export function decodeGoBool(value: JsonValue, field: string, path: JsonPath): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value === null) return undefined
  throw typeError(value, field, 'bool', path)
}

/** Go `int`/`int64`: integral literals only; we support the exact range of a JS number. */
export function decodeGoInt(value: JsonValue, field: string, path: JsonPath): number | undefined {
  if (typeof value === 'number') return value
  if (value === null) return undefined
  if (value instanceof JsonNumberLiteral) {
    if (!value.integral) throw typeError(value, field, 'int', path)
    throw new JsonTypeError(
      `number ${value.text} for Go struct field ${field} is beyond the supported integer range`,
      path,
    )
  }
  throw typeError(value, field, 'int', path)
}

/** Go `int64` holding nanoseconds (rcvd_time): exact, hence bigint. */
export function decodeGoInt64Exact(value: JsonValue, field: string, path: JsonPath): bigint | undefined {
  if (typeof value === 'number') return BigInt(value)
  if (value === null) return undefined
  if (value instanceof JsonNumberLiteral && value.integral) {
    const big = BigInt(value.text)
    if (big > 9223372036854775807n || big < -9223372036854775808n) {
      throw new JsonTypeError(`json: cannot unmarshal number ${value.text} into Go value of type int64`, path)
    }
    return big
  }
  throw typeError(value, field, 'int64', path)
}

export function decodeGoUint(value: JsonValue, field: string, path: JsonPath): number | undefined {
  const n = decodeGoInt(value, field, path)
  if (n !== undefined && n < 0) throw typeError(value, field, 'uint64', path)
  return n
}

/** `[]int`: null keeps nil (undefined), `[]` stays an empty slice; Go marshals those differently. */
export function decodeGoIntSlice(value: JsonValue, field: string, path: JsonPath): number[] | undefined {
  if (value === null) return undefined
  if (!Array.isArray(value)) throw typeError(value, field, '[]int', path)
  return value.map((element, i) => decodeGoInt(element, field, [...path, i]) ?? 0)
}

export function decodeGoStringSlice(value: JsonValue, field: string, path: JsonPath): string[] | undefined {
  if (value === null) return undefined
  if (!Array.isArray(value)) throw typeError(value, field, '[]string', path)
  return value.map((element, i) => decodeGoString(element, field, [...path, i]) ?? '')
}

/** Go decodes a JSON object into a struct; anything else but null is a type error. */
export function expectGoObject(value: JsonValue, structName: string, path: JsonPath): JsonObject | undefined {
  if (value === null) return undefined
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumberLiteral)) {
    return value
  }
  const where = path.length === 0 ? `Go value of type ${structName}` : `Go struct field of type ${structName}`
  throw new JsonTypeError(`cannot unmarshal ${jsonTypeName(value)} into ${where}`, path)
}

/**
 * Walks an object's keys in input order, repeated keys included, resolving each key to a field
 * case-insensitively (Go prefers an exact match, but every field name here is lower-case, so folding
 * the key is equivalent). Callers assign as they go, so later keys overwrite earlier ones, as in Go.
 */
export function forEachGoField(
  object: JsonObject,
  visit: (field: string, value: JsonValue, key: string) => void,
): void {
  const entries = duplicateEntries.get(object)
  if (entries !== undefined) {
    for (const [key, value] of entries) visit(foldKey(key), value, key)
    return
  }
  for (const key in object) {
    visit(foldKey(key), object[key] as JsonValue, key)
  }
}

/**
 * A key folded for matching lower-case ASCII field names the way Go's decoder does: besides ASCII
 * case, U+017F (long s) folds to "s" and U+212A (Kelvin sign) to "k"; no other non-ASCII letter folds
 * to ASCII.
 */
export function foldKey(key: string): string {
  const lower = key.toLowerCase()
  return lower.includes('\u017f') ? lower.replaceAll('\u017f', 's') : lower
}

// ---------------------------------------------------------------------------------------------
// Encoding with Go's escaping rules

// Characters Go's encoder escapes: ", \, control chars, <, >, &, U+2028, U+2029 and lone surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/

/** A JSON string literal exactly as Go's json.Marshal writes it. */
export function goQuote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 34) out += '\\"'
    else if (c === 92) out += '\\\\'
    else if (c === 10) out += '\\n'
    else if (c === 13) out += '\\r'
    else if (c === 9) out += '\\t'
    else if (c === 8) out += '\\b'
    else if (c === 12) out += '\\f'
    else if (c < 32 || c === 60 || c === 62 || c === 38 || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0')
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
      } else {
        out += '\\ufffd'
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\\ufffd'
    } else {
      out += s[i]
    }
  }
  return out + '"'
}

/** `[]string` as Go marshals it: nil is `null`. */
export function goStringArray(values: readonly string[] | undefined): string {
  if (values === undefined) return 'null'
  let out = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ','
    out += goQuote(values[i]!)
  }
  return out + ']'
}

export function goIntArray(values: readonly number[] | undefined): string {
  if (values === undefined) return 'null'
  return '[' + values.join(',') + ']'
}
