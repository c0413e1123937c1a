// Builders for the engine's Alarm type, as the alarm store and the `dsiem alarms` commands see them.

import type {Alarm} from '../../src/engine/index.js'

/** 2026-11-21 12:16:12Z, in Unix seconds: when pingFloodAlarm() was created and last updated. */
export const ALARM_T0 = 1_795_263_372

/**
 * Alarm "a1" of directive 1001, "Ping Flood from 192.168.0.1" to 8.8.8.8: Open, risk 3 (Medium), tagged
 * Identified Threat, created and updated at ALARM_T0; no custom data and no rules unless given.
 */
export function pingFloodAlarm(fields: Partial<Alarm> = {}): Alarm {
  return {
    alarmId: 'a1',
    directiveId: 1001,
    title: 'Ping Flood from 192.168.0.1',
    status: 'Open',
    kingdom: 'Reconnaissance & Probing',
    category: 'Misc Activity',
    createdTime: ALARM_T0,
    updateTime: ALARM_T0,
    risk: 3,
    riskClass: 'Medium',
    tag: 'Identified Threat',
    srcIps: ['192.168.0.1'],
    dstIps: ['8.8.8.8'],
    intelHits: [],
    vulnerabilities: [],
    customData: [],
    networks: ['192.168.0.0/16'],
    rules: [],
    ...fields,
  }
}
