// The SQL of `dsiem alarms list`: an AlarmQuery's filters as a WHERE clause with bound parameters,
// newest first, optionally limited.

import type {AlarmQuery} from './alarm-store.js'
import {positiveInteger} from './alarm-store-options.js'

/** Each filter and its condition, in the order they are joined. */
const FILTERS: readonly (readonly [keyof AlarmQuery, string])[] = [
  ['status', 'status = ?'],
  ['tag', 'tag = ?'],
  ['riskClass', 'risk_class = ?'],
  ['directiveId', 'directive_id = ?'],
  ['since', 'update_time >= ?'],
]

export function listQuery(query: AlarmQuery): {sql: string; params: (string | number)[]} {
  const where: string[] = []
  const params: (string | number)[] = []
  for (const [key, condition] of FILTERS) {
    const value = query[key]
    if (value === undefined) continue
    where.push(condition)
    params.push(value)
  }
  let sql = 'SELECT * FROM alarms'
  if (where.length > 0) sql += ' WHERE ' + where.join(' AND ')
  sql += ' ORDER BY update_time DESC, created_time DESC, alarm_id'
  if (query.limit !== undefined) {
    sql += ' LIMIT ?'
    params.push(positiveInteger(query.limit, 0, 'limit'))
  }
  return {sql, params}
}
