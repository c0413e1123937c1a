// Results of `directive test --generate` for people and for --json: per directive how far its
// generated events got (in-process) or what the target frontend answered, and what stopped a directive
// from being completable, with the seed that reproduces the run.

import chalk, {type ChalkInstance} from 'chalk'
import {planEvents, type DirectiveCheck} from '../../engine/index.js'
import type {GenerateTestOutcome} from '../directive/test-generate.js'

const MARK: Record<DirectiveCheck['status'], (paint: ChalkInstance) => string> = {
  complete: (paint) => paint.green('✓'),
  partial: (paint) => paint.yellow('~'),
  failed: (paint) => paint.red('✗'),
}

function checkLine(check: DirectiveCheck, paint: ChalkInstance): string {
  const head = `${MARK[check.status](paint)} directive ${check.directiveId} ${JSON.stringify(check.name)}`
  const progress = `stage ${check.reachedStage}/${check.stages}`
  const events = paint.dim(`(${check.events} events)`)
  switch (check.status) {
    case 'complete':
      return `${head}: ${progress} ${paint.green('complete')} ${events}`
    case 'partial':
      return `${head}: ${progress} reached ${events}; cannot complete: ${check.message ?? ''} (raise --max)`
    case 'failed':
      return `${head}: ${paint.red(progress)} ${events}; ${check.message ?? ''}`
  }
}

export function renderGenerateReport(outcome: GenerateTestOutcome, paint: ChalkInstance = chalk): string {
  const lines: string[] = [
    paint.dim(
      `seed ${outcome.seed} (rerun with --seed ${outcome.seed} for the same events); ${outcome.plans.length} directives, ${outcome.eventCount} events`,
    ),
  ]
  if (outcome.checks !== undefined) {
    for (const check of outcome.checks) lines.push(checkLine(check, paint))
    const count = (status: DirectiveCheck['status']) =>
      outcome.checks!.filter((c) => c.status === status).length
    const summary = `${outcome.checks.length} directives: ${count('complete')} complete, ${count('partial')} limited by --max, ${count('failed')} failed`
    lines.push('', outcome.passed ? paint.green(summary) : paint.red(summary))
    return lines.join('\n')
  }
  const send = outcome.send!
  for (const plan of outcome.plans) {
    if (plan.limit === undefined) continue
    const hint = plan.limit.kind === 'max' ? ' (raise --max)' : ''
    lines.push(
      paint.yellow(`warning: directive ${plan.directive.id} cannot complete: ${plan.limit.message}${hint}`),
    )
  }
  const failures = Object.entries(send.failures)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ')
  const summary = `sent ${send.events} events to ${send.url}: ${send.accepted} accepted, ${send.rejected} rejected${failures === '' ? '' : ` (${failures})`}; ${send.attempts} attempts, ${send.retries} retries`
  lines.push(outcome.passed ? paint.green(summary) : paint.red(summary))
  if (send.firstError !== undefined) lines.push(paint.red(`first connection error: ${send.firstError}`))
  return lines.join('\n')
}

export function generateReportJson(outcome: GenerateTestOutcome): Record<string, unknown> {
  const checks = new Map(outcome.checks?.map((check) => [check.directiveId, check]))
  return {
    seed: outcome.seed,
    start_time: outcome.startTime,
    events: outcome.eventCount,
    passed: outcome.passed,
    directives: outcome.plans.map((plan) => {
      const check = checks.get(plan.directive.id)
      return {
        id: plan.directive.id,
        name: plan.directive.name,
        stages: plan.directive.rules.length,
        events: planEvents(plan).length,
        events_per_stage: plan.rules.map((events) => events.length),
        ...(plan.limit === undefined
          ? {}
          : {limit: {kind: plan.limit.kind, stage: plan.limit.ruleIndex + 1, message: plan.limit.message}}),
        ...(check === undefined
          ? {}
          : {
              status: check.status,
              reached_stage: check.reachedStage,
              completed: check.completed,
              ...(check.message === undefined ? {} : {message: check.message}),
            }),
      }
    }),
    ...(outcome.send === undefined
      ? {}
      : {
          send: {
            url: outcome.send.url,
            events: outcome.send.events,
            accepted: outcome.send.accepted,
            rejected: outcome.send.rejected,
            attempts: outcome.send.attempts,
            retries: outcome.send.retries,
            failures: outcome.send.failures,
            ...(outcome.send.firstError === undefined ? {} : {first_error: outcome.send.firstError}),
          },
        }),
  }
}
