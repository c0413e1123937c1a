// Alarm store rows and the objects they map to: a row of the alarms table as SQLite returns it, the
// StoredAlarm read from it, and the named parameters an alarm is written with. The summary columns
// carry upstream's field names, which `dsiem alarms list --json` prints too.

import type {Alarm} from '../engine/index.js'
import type {StoredAlarm} from './alarm-store.js'

export interface AlarmRow {
  alarm_id: string
  directive_id: number
  title: string
  status: string
  tag: string
  risk: number
  risk_class: string
  created_time: number
  update_time: number
  src_ips: string
  dst_ips: string
  json: string
}

/** The fields an analyst edits; the store changes them only on request. */
export type StoredField = 'status' | 'tag'

type AlarmSummary = Pick<
  StoredAlarm,
  | 'alarmId'
  | 'directiveId'
  | 'title'
  | 'status'
  | 'tag'
  | 'risk'
  | 'riskClass'
  | 'createdTime'
  | 'updateTime'
  | 'srcIps'
  | 'dstIps'
>

/** An alarm's summary under upstream's field names (the table's column names). */
export function alarmSummaryFields(alarm: AlarmSummary) {
  return {
    alarm_id: alarm.alarmId,
    directive_id: alarm.directiveId,
    title: alarm.title,
    status: alarm.status,
    tag: alarm.tag,
    risk: alarm.risk,
    risk_class: alarm.riskClass,
    created_time: alarm.createdTime,
    update_time: alarm.updateTime,
    src_ips: alarm.srcIps,
    dst_ips: alarm.dstIps,
  }
}

export function toStored(row: AlarmRow): StoredAlarm {
  return {
    alarmId: row.alarm_id,
    directiveId: row.directive_id,
    title: row.title,
    status: row.status,
    tag: row.tag,
    risk: row.risk,
    riskClass: row.risk_class,
    createdTime: row.created_time,
    updateTime: row.update_time,
    srcIps: JSON.parse(row.src_ips) as string[],
    dstIps: JSON.parse(row.dst_ips) as string[],
    json: row.json,
  }
}

/** The named parameters of the insert and update statements; the IP lists are stored as JSON text. */
export function rowParams(alarm: Alarm, json: string): AlarmRow {
  return {
    ...alarmSummaryFields(alarm),
    src_ips: JSON.stringify(alarm.srcIps),
    dst_ips: JSON.stringify(alarm.dstIps),
    json,
  }
}
