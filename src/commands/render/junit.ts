// JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters): one <testsuite> per case file, one
// <testcase> per case, a failed case carrying the plain-text diff in its <failure>.

import path from 'node:path'
import type {CasesTestOutcome} from '../directive/test-cases.js'
import {mismatchLines, plain} from './case-report.js'

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry at all. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3)
}

export function renderJunit(outcome: CasesTestOutcome, timestamp: Date): string {
  const suite = escapeXml(outcome.file)
  // Reporters split classname on dots into packages, so use the file's base name without them.
  const classname = escapeXml(
    `dsiem.${path
      .basename(outcome.file)
      .replace(/\.[^.]*$/, '')
      .replace(/\./g, '_')}`,
  )
  const total = outcome.results.length
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dsiem directive test" tests="${total}" failures="${outcome.failed}" errors="0" time="${seconds(outcome.durationMs)}">`,
    `  <testsuite name="${suite}" tests="${total}" failures="${outcome.failed}" errors="0" skipped="0" time="${seconds(outcome.durationMs)}" timestamp="${timestamp.toISOString().replace(/\.\d{3}Z$/, '')}">`,
  ]
  for (const result of outcome.results) {
    const open = `    <testcase name="${escapeXml(result.name)}" classname="${classname}" time="${seconds(result.durationMs)}"`
    if (result.passed) {
      lines.push(`${open}/>`)
      continue
    }
    const count = result.mismatches.length
    const message = `${count} alarm mismatch${count === 1 ? '' : 'es'}`
    lines.push(
      `${open}>`,
      `      <failure message="${message}" type="AlarmMismatch">${escapeXml(mismatchLines(result.mismatches, plain).join('\n'))}</failure>`,
      '    </testcase>',
    )
  }
  lines.push('  </testsuite>', '</testsuites>', '')
  return lines.join('\n')
}
