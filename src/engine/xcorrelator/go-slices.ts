// Go encoding/json semantics for the JSON arrays the xcorrelator reads (source lists, plugin answers,
// cached results): the type errors Go reports and its treatment of null arrays and null elements.

import {
  JsonNumberLiteral,
  JsonTypeError,
  expectGoObject,
  parseJson,
  type JsonObject,
  type JsonPath,
  type JsonValue,
} from '../go-json.js'

/** The JSON type as Go's decoder names it in "cannot unmarshal X into …" errors. */
export function describeJsonType(value: JsonValue): string {
  if (typeof value === 'string') return 'string'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number' || value instanceof JsonNumberLiteral) return 'number'
  if (Array.isArray(value)) return 'array'
  return value === null ? 'null' : 'object'
}

/** A slice-typed struct field: null is a nil slice (undefined), anything but an array a type error. */
export function expectGoArray(
  value: JsonValue,
  field: string,
  goType: string,
  path: JsonPath,
): JsonValue[] | undefined {
  if (value === null) return undefined
  if (Array.isArray(value)) return value
  throw new JsonTypeError(
    `cannot unmarshal ${describeJsonType(value)} into Go struct field ${field} of type ${goType}`,
    path,
  )
}

/** A whole document decoded as Go's []goType: null is empty, null elements are dropped. */
export function decodeGoStructList<T>(
  text: string,
  goType: string,
  decodeElement: (object: JsonObject, path: JsonPath) => T,
): T[] {
  const root = parseJson(text).value
  if (root === null) return []
  if (!Array.isArray(root)) {
    throw new JsonTypeError(
      `cannot unmarshal ${describeJsonType(root)} into Go value of type []${goType}`,
      [],
    )
  }
  return root.flatMap((element, i) => {
    const object = expectGoObject(element, goType, [i])
    // A null element decodes to the zero struct, which both plugins then ignore.
    return object === undefined ? [] : [decodeElement(object, [i])]
  })
}
