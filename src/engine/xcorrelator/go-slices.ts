// Go encoding/json semantics for the JSON arrays the xcorrelator reads (source lists, plugin answers,
// cached results): the type errors Go reports and its treatment of null arrays and null elements.

import {
  jsonTypeName,
  JsonTypeError,
  expectGoObject,
  parseJson,
  type JsonObject,
  type JsonPath,
  type JsonValue,
} from '../go-json.js'

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
    `cannot unmarshal ${jsonTypeName(value)} into Go struct field ${field} of type ${goType}`,
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
    throw new JsonTypeError(`cannot unmarshal ${jsonTypeName(root)} into Go value of type []${goType}`, [])
  }
  return root.flatMap((element, i) => {
    const object = expectGoObject(element, goType, [i])
    // A null element decodes to the zero struct, which both plugins then ignore.
    return object === undefined ? [] : [decodeElement(object, [i])]
  })
}
