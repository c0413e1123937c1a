// Directive and rule types (upstream's `directives_*.json` format), decoding with Go's rules, and the
// rule JSON writer used inside alarms (Go struct order and omitempty flags).

import {
  decodeGoBool,
  decodeGoInt,
  decodeGoIntSlice,
  decodeGoString,
  decodeGoStringSlice,
  expectGoObject,
  forEachGoField,
  goIntArray,
  goQuote,
  goStringArray,
  type JsonPath,
  type JsonValue,
} from './go-json.js'

export const RULE_TYPES = ['PluginRule', 'TaxonomyRule'] as const

export const STICKY_DIFFERENT_FIELDS = [
  'PLUGIN_SID',
  'SRC_IP',
  'DST_IP',
  'SRC_PORT',
  'DST_PORT',
  'CUSTOM_DATA1',
  'CUSTOM_DATA2',
  'CUSTOM_DATA3',
] as const

export interface DirectiveRule {
  name: string
  stage: number
  pluginId: number
  /** undefined = absent in the file (Go nil, written as null); [] stays []. */
  pluginSid: number[] | undefined
  product: string[] | undefined
  category: string
  subcategory: string[] | undefined
  occurrence: number
  from: string
  to: string
  type: string
  portFrom: string
  portTo: string
  protocol: string
  reliability: number
  timeout: number
  startTime: number
  endTime: number
  /** Unix ns of the first event's receipt; only ever set on the first rule of a backlog. */
  rcvdTime: bigint
  status: string
  stickyDifferent: string
  customData1: string
  customLabel1: string
  customData2: string
  customLabel2: string
  customData3: string
  customLabel3: string
}

export interface Directive {
  id: number
  name: string
  priority: number
  disabled: boolean
  allRulesAlwaysActive: boolean
  kingdom: string
  category: string
  rules: DirectiveRule[]
}

export function emptyRule(): DirectiveRule {
  return {
    name: '',
    stage: 0,
    pluginId: 0,
    pluginSid: undefined,
    product: undefined,
    category: '',
    subcategory: undefined,
    occurrence: 0,
    from: '',
    to: '',
    type: '',
    portFrom: '',
    portTo: '',
    protocol: '',
    reliability: 0,
    timeout: 0,
    startTime: 0,
    endTime: 0,
    rcvdTime: 0n,
    status: '',
    stickyDifferent: '',
    customData1: '',
    customLabel1: '',
    customData2: '',
    customLabel2: '',
    customData3: '',
    customLabel3: '',
  }
}

export function cloneRule(rule: DirectiveRule): DirectiveRule {
  return {
    ...rule,
    pluginSid: rule.pluginSid?.slice(),
    product: rule.product?.slice(),
    subcategory: rule.subcategory?.slice(),
  }
}

export function cloneDirective(directive: Directive): Directive {
  return {...directive, rules: directive.rules.map(cloneRule)}
}

// ---------------------------------------------------------------------------------------------
// Decoding

type StringRuleField =
  | 'name'
  | 'category'
  | 'from'
  | 'to'
  | 'type'
  | 'portFrom'
  | 'portTo'
  | 'protocol'
  | 'status'
  | 'stickyDifferent'
  | 'customData1'
  | 'customLabel1'
  | 'customData2'
  | 'customLabel2'
  | 'customData3'
  | 'customLabel3'
type IntRuleField = 'stage' | 'pluginId' | 'occurrence' | 'reliability' | 'timeout' | 'startTime' | 'endTime'
type SliceRuleField = 'pluginSid' | 'product' | 'subcategory'

const RULE_STRING_FIELDS: ReadonlyMap<string, StringRuleField> = new Map([
  ['name', 'name'],
  ['category', 'category'],
  ['from', 'from'],
  ['to', 'to'],
  ['type', 'type'],
  ['port_from', 'portFrom'],
  ['port_to', 'portTo'],
  ['protocol', 'protocol'],
  ['status', 'status'],
  ['sticky_different', 'stickyDifferent'],
  ['custom_data1', 'customData1'],
  ['custom_label1', 'customLabel1'],
  ['custom_data2', 'customData2'],
  ['custom_label2', 'customLabel2'],
  ['custom_data3', 'customData3'],
  ['custom_label3', 'customLabel3'],
])
const RULE_INT_FIELDS: ReadonlyMap<string, IntRuleField> = new Map([
  ['stage', 'stage'],
  ['plugin_id', 'pluginId'],
  ['occurrence', 'occurrence'],
  ['reliability', 'reliability'],
  ['timeout', 'timeout'],
  ['start_time', 'startTime'],
  ['end_time', 'endTime'],
])
const RULE_SLICE_FIELDS: ReadonlyMap<string, SliceRuleField> = new Map([
  ['plugin_sid', 'pluginSid'],
  ['product', 'product'],
  ['subcategory', 'subcategory'],
])

function decodeRule(value: JsonValue, path: JsonPath): DirectiveRule {
  const rule = emptyRule()
  const object = expectGoObject(value, 'rule.DirectiveRule', path)
  if (object === undefined) return rule
  forEachGoField(object, (field, fieldValue, key) => {
    const fieldPath = [...path, key]
    const goName = `DirectiveRule.${field}`
    const stringField = RULE_STRING_FIELDS.get(field)
    if (stringField !== undefined) {
      rule[stringField] = decodeGoString(fieldValue, goName, fieldPath) ?? rule[stringField]
      return
    }
    const intField = RULE_INT_FIELDS.get(field)
    if (intField !== undefined) {
      rule[intField] = decodeGoInt(fieldValue, goName, fieldPath) ?? rule[intField]
      return
    }
    const sliceField = RULE_SLICE_FIELDS.get(field)
    if (sliceField === 'pluginSid') {
      rule.pluginSid = decodeGoIntSlice(fieldValue, goName, fieldPath)
    } else if (sliceField !== undefined) {
      rule[sliceField] = decodeGoStringSlice(fieldValue, goName, fieldPath)
    } else if (field === 'rcvd_time') {
      const n = decodeGoInt(fieldValue, goName, fieldPath)
      if (n !== undefined) rule.rcvdTime = BigInt(n)
    }
    // `events` is runtime state; a value in a file is ignored rather than pre-counting events.
  })
  return rule
}

function decodeDirective(value: JsonValue, path: JsonPath): Directive {
  const directive: Directive = {
    id: 0,
    name: '',
    priority: 0,
    disabled: false,
    allRulesAlwaysActive: false,
    kingdom: '',
    category: '',
    rules: [],
  }
  const object = expectGoObject(value, 'siem.Directive', path)
  if (object === undefined) return directive
  forEachGoField(object, (field, fieldValue, key) => {
    const fieldPath = [...path, key]
    const goName = `Directive.${field}`
    switch (field) {
      case 'id':
        directive.id = decodeGoInt(fieldValue, goName, fieldPath) ?? directive.id
        break
      case 'priority':
        directive.priority = decodeGoInt(fieldValue, goName, fieldPath) ?? directive.priority
        break
      case 'name':
        directive.name = decodeGoString(fieldValue, goName, fieldPath) ?? directive.name
        break
      case 'kingdom':
        directive.kingdom = decodeGoString(fieldValue, goName, fieldPath) ?? directive.kingdom
        break
      case 'category':
        directive.category = decodeGoString(fieldValue, goName, fieldPath) ?? directive.category
        break
      case 'disabled':
        directive.disabled = decodeGoBool(fieldValue, goName, fieldPath) ?? directive.disabled
        break
      case 'all_rules_always_active':
        directive.allRulesAlwaysActive =
          decodeGoBool(fieldValue, goName, fieldPath) ?? directive.allRulesAlwaysActive
        break
      case 'rules':
        if (fieldValue === null) {
          directive.rules = []
        } else if (Array.isArray(fieldValue)) {
          directive.rules = fieldValue.map((ruleValue, i) => decodeRule(ruleValue, [...fieldPath, i]))
        } else {
          expectGoObject(fieldValue, '[]rule.DirectiveRule', fieldPath)
        }
        break
    }
  })
  return directive
}

/** `{"directives":[...]}` with Go's rules; throws JsonTypeError on a type mismatch. */
export function decodeDirectiveFile(root: JsonValue): Directive[] {
  const object = expectGoObject(root, 'siem.Directives', [])
  let directives: Directive[] = []
  if (object === undefined) return directives
  forEachGoField(object, (field, value, key) => {
    if (field !== 'directives' || value === null) return
    if (!Array.isArray(value)) {
      expectGoObject(value, '[]siem.Directive', [key])
      return
    }
    directives = value.map((item, i) => decodeDirective(item, [key, i]))
  })
  return directives
}

// ---------------------------------------------------------------------------------------------
// Rule JSON as it appears inside alarms (Go struct field order, omitempty; `events` always blank)

export function serializeRule(rule: DirectiveRule): string {
  let out = `{"name":${goQuote(rule.name)},"stage":${rule.stage},"plugin_id":${rule.pluginId}`
  out += `,"plugin_sid":${goIntArray(rule.pluginSid)}`
  if (rule.product !== undefined && rule.product.length > 0)
    out += `,"product":${goStringArray(rule.product)}`
  if (rule.category !== '') out += `,"category":${goQuote(rule.category)}`
  if (rule.subcategory !== undefined && rule.subcategory.length > 0) {
    out += `,"subcategory":${goStringArray(rule.subcategory)}`
  }
  out += `,"occurrence":${rule.occurrence},"from":${goQuote(rule.from)},"to":${goQuote(rule.to)}`
  out += `,"type":${goQuote(rule.type)},"port_from":${goQuote(rule.portFrom)},"port_to":${goQuote(rule.portTo)}`
  if (rule.protocol !== '') out += `,"protocol":${goQuote(rule.protocol)}`
  out += `,"reliability":${rule.reliability},"timeout":${rule.timeout}`
  if (rule.startTime !== 0) out += `,"start_time":${rule.startTime}`
  if (rule.endTime !== 0) out += `,"end_time":${rule.endTime}`
  if (rule.rcvdTime !== 0n) out += `,"rcvd_time":${rule.rcvdTime}`
  if (rule.status !== '') out += `,"status":${goQuote(rule.status)}`
  if (rule.stickyDifferent !== '') out += `,"sticky_different":${goQuote(rule.stickyDifferent)}`
  if (rule.customData1 !== '') out += `,"custom_data1":${goQuote(rule.customData1)}`
  if (rule.customLabel1 !== '') out += `,"custom_label1":${goQuote(rule.customLabel1)}`
  if (rule.customData2 !== '') out += `,"custom_data2":${goQuote(rule.customData2)}`
  if (rule.customLabel2 !== '') out += `,"custom_label2":${goQuote(rule.customLabel2)}`
  if (rule.customData3 !== '') out += `,"custom_data3":${goQuote(rule.customData3)}`
  if (rule.customLabel3 !== '') out += `,"custom_label3":${goQuote(rule.customLabel3)}`
  return out + '}'
}

/** Directive file JSON (used by the generator and for writing directive sets). */
export function serializeDirective(directive: Directive): string {
  return JSON.stringify({
    id: directive.id,
    name: directive.name,
    priority: directive.priority,
    disabled: directive.disabled || undefined,
    all_rules_always_active: directive.allRulesAlwaysActive || undefined,
    kingdom: directive.kingdom,
    category: directive.category,
    rules: directive.rules.map((rule) => JSON.parse(serializeRule(rule)) as unknown),
  })
}
