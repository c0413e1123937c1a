// Upstream Dsiem's directive validation pipeline, with its order of checks, its clamping (priority,
// first-stage occurrence, reliability) and its exact error strings, because operators grep for them.
// Loading: every `directives_*.json` in lexicographic order; a JSON error aborts everything; a
// validation error skips that one directive.

import {decodeConfigFile, type ConfigFile} from './config-file.js'
import {cloneDirective, decodeDirectiveFile, RULE_TYPES, type Directive} from './directive.js'
import {ConfigError} from './errors.js'
import {parseCidr} from './ip.js'
import {splitList} from './list-match.js'

export const DIRECTIVE_FILE_GLOB = 'directives_*.json'

export interface DirectiveValidationOptions {
  /** Beyond upstream (its issue #299): accept directives with a single rule. */
  allowSingleStage?: boolean
}

export interface SkippedDirective {
  file: string
  id: number
  name: string
  reason: string
  /** Upstream's log line for it. */
  message: string
}

export interface DirectiveWarning {
  file: string
  id: number
  message: string
}

export interface DirectiveSet {
  /** Valid directives, in load order. */
  directives: Directive[]
  /** Directives defined in the files, including disabled and invalid ones. */
  totalFromFiles: number
  skipped: SkippedDirective[]
  warnings: DirectiveWarning[]
  files: string[]
}

const REFERENCE = /^:[1-9][0-9]?$/

class RuleError extends Error {}

/**
 * Validates one directive against those already accepted. Returns the reason it is invalid, or
 * undefined; clamps fields in place and reports each clamp through `warn`.
 */
export function validateDirective(
  directive: Directive,
  accepted: readonly Directive[],
  warn: (message: string) => void,
  options: DirectiveValidationOptions = {},
): string | undefined {
  if (accepted.some((other) => other.id === directive.id)) {
    return `id '${directive.id}' is already used as an ID by other directive`
  }
  if (directive.name === '') return 'Directive name cannot be empty'
  if (directive.kingdom === '') return 'Directive kingdom cannot be empty'
  if (directive.category === '') return 'Directive category cannot be empty'
  if (directive.priority < 1 || directive.priority > 5) {
    warn(`directive ${directive.id} has wrong priority set (${directive.priority}), configuring it to 1`)
    directive.priority = 1
  }
  const minimumRules = options.allowSingleStage === true ? 1 : 2
  if (directive.rules.length < minimumRules) {
    return `directive ${directive.id} has no rule therefore has no effect, or only 1 rule and therefore will never expire`
  }
  try {
    validateRules(directive, warn)
  } catch (error) {
    if (error instanceof RuleError) {
      return `directive ${directive.id} contains invalid rule, ${error.message}`
    }
    throw error
  }
  return undefined
}

function validateRules(directive: Directive, warn: (message: string) => void): void {
  const stages: number[] = []
  const ruleCount = directive.rules.length
  for (const rule of directive.rules) {
    if (rule.stage === 0) throw new RuleError('can not use 0 as rule stage')
    if (stages.includes(rule.stage)) throw new RuleError(`duplicate rule stage found (${rule.stage})`)
    if (rule.stage === 1 && rule.occurrence !== 1) {
      warn(
        `Directive '${directive.id}' rule ${rule.stage} has wrong occurence set (${rule.occurrence}), configuring it to 1`,
      )
      rule.occurrence = 1
    }
    if (!(RULE_TYPES as readonly string[]).includes(rule.type)) {
      throw new RuleError(`invalid rule type, valid types: [${RULE_TYPES.join(' ')}]`)
    }
    if (rule.type === 'PluginRule') {
      if (rule.pluginId < 1) throw new RuleError('PluginRule requires PluginID to be 1 or higher')
      if (rule.pluginSid === undefined || rule.pluginSid.length === 0) {
        throw new RuleError('PluginRule requires PluginSID to be defined')
      }
      if (rule.pluginSid.some((sid) => sid < 1)) {
        throw new RuleError('PluginRule requires PluginSID to be 1 or higher')
      }
    }
    if (rule.type === 'TaxonomyRule') {
      if (rule.product === undefined || rule.product.length === 0) {
        throw new RuleError('TaxonomyRule requires Product to be defined')
      }
      if (rule.category === '') throw new RuleError('TaxonomyRule requires Category to be defined')
    }
    if (rule.reliability < 0) {
      warn(
        `Directive ${directive.id} rule ${rule.stage} has wrong reliability set (${rule.reliability}), configuring it to 0`,
      )
      rule.reliability = 0
    }
    if (rule.reliability > 10) {
      warn(
        `Directive ${directive.id} rule ${rule.stage} has wrong reliability set (${rule.reliability}), configuring it to 10`,
      )
      rule.reliability = 10
    }
    const isFirstStage = rule.stage === 1
    validateFromTo(rule.from, isFirstStage, ruleCount)
    validateFromTo(rule.to, isFirstStage, ruleCount)
    validatePort(rule.portFrom, isFirstStage, ruleCount)
    validatePort(rule.portTo, isFirstStage, ruleCount)
    stages.push(rule.stage)
  }
}

function validateReference(value: string, isFirstStage: boolean, ruleCount: number): void {
  if (isFirstStage) throw new RuleError('first rule cannot contain reference')
  if (!REFERENCE.test(value) || Number(value.slice(1)) >= ruleCount) {
    throw new RuleError('invalid reference number, must be larger than 0 and less than the rule count')
  }
}

function validateFromTo(value: string, isFirstStage: boolean, ruleCount: number): void {
  if (value === '') throw new RuleError('rule From/To cannot be empty')
  if (value === 'ANY' || value === 'HOME_NET' || value === '!HOME_NET') return
  if (value.startsWith(':')) {
    validateReference(value, isFirstStage, ruleCount)
    return
  }
  for (let token of splitList(value)) {
    // Upstream appends /32 before stripping "!", and names the token that way in the error.
    if (!token.includes('/')) token += '/32'
    if (token.startsWith('!')) token = token.slice(1)
    if (parseCidr(token) === undefined) throw new RuleError(`${token} is not a valid IPv4 address`)
  }
}

function validatePort(value: string, isFirstStage: boolean, ruleCount: number): void {
  if (value === 'ANY') return
  if (value.startsWith(':')) {
    validateReference(value, isFirstStage, ruleCount)
    return
  }
  for (let token of splitList(value)) {
    if (token.startsWith('!')) token = token.slice(1)
    const port = parseGoAtoi(token)
    if (typeof port === 'string') throw new RuleError(port)
    if (port <= 1 || port >= 65535) throw new RuleError(`${token} is not a valid TCP/IP port number`)
  }
}

const INT64_MAX = 9223372036854775807n
const INT64_MIN = -9223372036854775808n

/**
 * Go's strconv.Atoi (64-bit int): the number, or its error text. Values beyond 2^53 come back
 * approximate, which is enough for the port range check that follows.
 */
function parseGoAtoi(text: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(text)) return `strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`
  const value = BigInt(text)
  if (value > INT64_MAX || value < INT64_MIN) {
    return `strconv.Atoi: parsing ${JSON.stringify(text)}: value out of range`
  }
  return Number(value)
}

/**
 * Loads directive files (already read, in lexicographic order) the way upstream does. Returns what
 * loaded plus every skip reason; throws ConfigError (file:line:column) when a file is not valid JSON
 * or has a type error, which aborts the whole load upstream too.
 */
export function loadDirectiveSet(
  files: readonly ConfigFile[],
  options: DirectiveValidationOptions & {includeDisabled?: boolean} = {},
): DirectiveSet {
  const set: DirectiveSet = {directives: [], totalFromFiles: 0, skipped: [], warnings: [], files: []}
  for (const file of files) {
    const directives = decodeConfigFile(file, decodeDirectiveFile)
    set.files.push(file.name)
    set.totalFromFiles += directives.length
    for (const decoded of directives) {
      if (decoded.disabled && options.includeDisabled !== true) {
        set.warnings.push({
          file: file.name,
          id: decoded.id,
          message: `Skipping disabled directive ID ${decoded.id}`,
        })
        continue
      }
      const directive = cloneDirective(decoded)
      const reason = validateDirective(
        directive,
        set.directives,
        (message) => set.warnings.push({file: file.name, id: directive.id, message}),
        options,
      )
      if (reason !== undefined) {
        set.skipped.push({
          file: file.name,
          id: decoded.id,
          name: decoded.name,
          reason,
          message: `Skipping directive ID ${decoded.id} '${decoded.name}' due to error: ${reason}`,
        })
        continue
      }
      set.directives.push(directive)
    }
  }
  return set
}

/** Upstream refuses to start without at least one valid directive. */
export function requireDirectives(set: DirectiveSet, where: string): Directive[] {
  if (set.directives.length === 0) {
    throw new ConfigError(`no directive loaded from the file (${where})`, 'DSIEM_E_NO_DIRECTIVE', {
      hint:
        set.skipped.length > 0
          ? `every directive was skipped; run \`dsiem directive validate\` to see why`
          : `add a ${DIRECTIVE_FILE_GLOB} file`,
    })
  }
  return set.directives
}
