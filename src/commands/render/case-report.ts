// Test-case results for people (a pass/fail line per case, and for a failure the differing fields as
// "expected … got …", then missing and unexpected alarms) and for machines (--json, snake_case like
// the case file itself). The plain-text variant of the diff also goes into JUnit failure bodies.

import chalk, {Chalk, type ChalkInstance} from 'chalk'
import type {ActualAlarm, AlarmMismatch, ExpectedAlarm} from '../../engine/index.js'
import type {CasesTestOutcome, TimedCaseResult} from '../directive/test-cases.js'

export const plain: ChalkInstance = new Chalk({level: 0})

function show(value: number | string | readonly string[]): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value)
  return `[${value.join(', ')}]`
}

export function describeExpected(alarm: ExpectedAlarm): string {
  const parts = [`directive ${alarm.directiveId}`]
  if (alarm.title !== undefined) parts.push(`title ${show(alarm.title)}`)
  if (alarm.stage !== undefined) parts.push(`stage ${alarm.stage}`)
  if (alarm.risk !== undefined) parts.push(`risk ${alarm.risk}`)
  if (alarm.riskClass !== undefined) parts.push(`risk_class ${alarm.riskClass}`)
  if (alarm.srcIps !== undefined) parts.push(`src_ips ${show(alarm.srcIps)}`)
  if (alarm.dstIps !== undefined) parts.push(`dst_ips ${show(alarm.dstIps)}`)
  return parts.join(', ')
}

export function describeActual(alarm: ActualAlarm): string {
  return `directive ${alarm.directiveId} ${show(alarm.title)}, stage ${alarm.stage}/${alarm.stages}, risk ${alarm.risk} ${alarm.riskClass}, ${show(alarm.srcIps)} → ${show(alarm.dstIps)}`
}

/** The diff lines of one failed case (no indentation of their own). */
export function mismatchLines(mismatches: readonly AlarmMismatch[], paint: ChalkInstance = chalk): string[] {
  const lines: string[] = []
  for (const mismatch of mismatches) {
    switch (mismatch.kind) {
      case 'different': {
        lines.push(
          `alarm ${mismatch.actual.alarmId} of directive ${mismatch.actual.directiveId} (expected alarm #${mismatch.expectedIndex + 1}):`,
        )
        const fieldWidth = Math.max(...mismatch.differences.map((d) => d.field.length))
        const valueWidth = Math.max(...mismatch.differences.map((d) => show(d.expected).length))
        for (const difference of mismatch.differences) {
          const expected = show(difference.expected)
          lines.push(
            `  ${difference.field.padEnd(fieldWidth)}  expected ${paint.green(expected)}${' '.repeat(valueWidth - expected.length)}  got ${paint.red(show(difference.actual))}`,
          )
        }
        break
      }
      case 'missing':
        lines.push(
          `${paint.green('missing alarm')} (expected alarm #${mismatch.expectedIndex + 1}): ${describeExpected(mismatch.expected)}`,
        )
        break
      case 'unexpected':
        lines.push(
          `${paint.red('unexpected alarm')} ${mismatch.actual.alarmId}: ${describeActual(mismatch.actual)}`,
        )
        break
    }
  }
  return lines
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function caseLine(result: TimedCaseResult, paint: ChalkInstance): string {
  const detail = paint.dim(
    `(${plural(result.eventCount, 'event')}, ${plural(result.alarms.length, 'alarm')})`,
  )
  return result.passed
    ? `${paint.green('✓')} ${result.name} ${detail}`
    : `${paint.red('✗')} ${paint.bold(result.name)} ${detail}`
}

export function renderCaseReport(outcome: CasesTestOutcome, paint: ChalkInstance = chalk): string {
  const lines: string[] = []
  for (const result of outcome.results) {
    lines.push(caseLine(result, paint))
    if (!result.passed) for (const line of mismatchLines(result.mismatches, paint)) lines.push(`    ${line}`)
  }
  const summary = `${plural(outcome.results.length, 'case')} in ${outcome.file}: ${outcome.passed} passed, ${outcome.failed} failed`
  lines.push('', outcome.failed === 0 ? paint.green(summary) : paint.red(summary))
  return lines.join('\n')
}

function expectedJson(alarm: ExpectedAlarm): Record<string, unknown> {
  return {
    directive_id: alarm.directiveId,
    ...(alarm.title === undefined ? {} : {title: alarm.title}),
    ...(alarm.stage === undefined ? {} : {stage: alarm.stage}),
    ...(alarm.risk === undefined ? {} : {risk: alarm.risk}),
    ...(alarm.riskClass === undefined ? {} : {risk_class: alarm.riskClass}),
    ...(alarm.srcIps === undefined ? {} : {src_ips: alarm.srcIps}),
    ...(alarm.dstIps === undefined ? {} : {dst_ips: alarm.dstIps}),
  }
}

function actualJson(alarm: ActualAlarm): Record<string, unknown> {
  return {
    alarm_id: alarm.alarmId,
    directive_id: alarm.directiveId,
    title: alarm.title,
    stage: alarm.stage,
    stages: alarm.stages,
    risk: alarm.risk,
    risk_class: alarm.riskClass,
    src_ips: alarm.srcIps,
    dst_ips: alarm.dstIps,
  }
}

function mismatchJson(mismatch: AlarmMismatch): Record<string, unknown> {
  switch (mismatch.kind) {
    case 'different':
      return {
        kind: 'different',
        expected_index: mismatch.expectedIndex,
        alarm_id: mismatch.actual.alarmId,
        directive_id: mismatch.actual.directiveId,
        differences: mismatch.differences,
      }
    case 'missing':
      return {
        kind: 'missing',
        expected_index: mismatch.expectedIndex,
        expected: expectedJson(mismatch.expected),
      }
    case 'unexpected':
      return {kind: 'unexpected', actual: actualJson(mismatch.actual)}
  }
}

export function caseReportJson(outcome: CasesTestOutcome): Record<string, unknown> {
  return {
    file: outcome.file,
    config_dir: outcome.configDir,
    passed: outcome.passed,
    failed: outcome.failed,
    cases: outcome.results.map((result) => ({
      name: result.name,
      passed: result.passed,
      events: result.eventCount,
      duration_ms: Math.round(result.durationMs * 1000) / 1000,
      alarms: result.alarms.map(actualJson),
      mismatches: result.mismatches.map(mismatchJson),
    })),
  }
}
