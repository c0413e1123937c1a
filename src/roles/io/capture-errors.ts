// Typed errors for packet capture: the addon reports {errno, syscall, step}, and this turns that into one
// sentence an operator can act on (missing capability, wrong interface name, clashing fanout id).

import {EnvironmentError} from '../../engine/index.js'
import {getSystemErrorMap} from 'node:util'
import type {NativeFailure} from './capture-binding.js'

/** AF_PACKET exists on Linux only; elsewhere the addon builds nothing. */
export class CaptureUnsupportedError extends EnvironmentError {
  readonly platform: string

  constructor(platform: string) {
    super(`packet capture is not supported on ${platform}`, 'DSIEM_E_CAPTURE_UNSUPPORTED', {
      hint: 'run the worker role on Linux',
    })
    this.name = 'CaptureUnsupportedError'
    this.platform = platform
  }
}

/** The compiled addon is missing or does not load (not built, or built for another Node). */
export class CaptureAddonError extends EnvironmentError {
  readonly file: string

  constructor(file: string, cause: unknown, missing: boolean) {
    const what = missing ? 'is not built' : 'cannot be loaded'
    super(
      `the packet capture addon ${what} (${file}): run \`npm install\` or \`npm run build:native\``,
      'DSIEM_E_CAPTURE_ADDON',
      {hint: 'building it needs python3, make and g++', cause},
    )
    this.name = 'CaptureAddonError'
    this.file = file
  }
}

export type CaptureOperation = 'capture' | 'inject'

/** A system call behind capture or injection failed. */
export class CaptureError extends EnvironmentError {
  /** Positive errno, as in errno.h. */
  readonly errno: number
  /** Symbolic errno (`EPERM`), or `E<number>` when Node does not know it. */
  readonly errnoName: string
  readonly syscall: string
  /** The setup step that failed (see NativeFailure.step). */
  readonly step: string
  readonly iface: string

  constructor(message: string, failure: NativeFailure, iface: string, code: string, hint?: string) {
    super(message, code, hint === undefined ? {} : {hint})
    this.name = 'CaptureError'
    this.errno = failure.errno
    this.errnoName = errnoName(failure.errno)
    this.syscall = failure.syscall
    this.step = failure.step
    this.iface = iface
  }
}

/** EPERM/EACCES: the process lacks CAP_NET_RAW. */
export class CaptureNotPermittedError extends CaptureError {
  constructor(message: string, failure: NativeFailure, iface: string) {
    super(
      message,
      failure,
      iface,
      'DSIEM_E_CAPTURE_NOT_PERMITTED',
      'run as root, or grant the capability: setcap cap_net_raw,cap_net_admin+eip <node binary>, or ' +
        'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN in the systemd unit',
    )
    this.name = 'CaptureNotPermittedError'
  }
}

export function errnoName(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[0] ?? `E${errno}`
}

function errnoText(errno: number): string {
  const known = getSystemErrorMap().get(-errno)
  return known === undefined ? `errno ${errno}` : `${known[0]}: ${known[1]}`
}

export interface CaptureErrorContext {
  operation?: CaptureOperation
  fanoutId?: number | undefined
}

/** The typed error for a native failure while capturing on (or injecting into) `iface`. */
export function captureErrorFrom(
  failure: NativeFailure,
  iface: string,
  context: CaptureErrorContext = {},
): CaptureError {
  const name = errnoName(failure.errno)
  const capturing = (context.operation ?? 'capture') === 'capture'
  if (name === 'EPERM' || name === 'EACCES') {
    const doing = capturing ? 'capturing on' : 'sending frames on'
    return new CaptureNotPermittedError(`${doing} ${iface} needs CAP_NET_RAW or root`, failure, iface)
  }
  if (name === 'ENODEV' || (name === 'ENXIO' && failure.step !== 'poll')) {
    return new CaptureError(
      `no such interface ${iface}`,
      failure,
      iface,
      'DSIEM_E_CAPTURE_NO_INTERFACE',
      'check `ip link`',
    )
  }
  if (failure.step === 'fanout' && name === 'EINVAL') {
    return new CaptureError(
      `joining fanout group ${context.fanoutId ?? '?'} on ${iface} failed (EINVAL): two interfaces cannot ` +
        'share a fanout id, and all sockets of one group need the same fanout mode and defrag setting',
      failure,
      iface,
      'DSIEM_E_CAPTURE_FANOUT',
      'give every interface its own fanoutId',
    )
  }
  if (failure.step === 'poll' && name === 'ENETDOWN') {
    return new CaptureError(
      `interface ${iface} went down while capturing`,
      failure,
      iface,
      'DSIEM_E_CAPTURE_DOWN',
    )
  }
  if (failure.step === 'ring' && name === 'ENOMEM') {
    return new CaptureError(
      `the capture ring for ${iface} could not be allocated (ENOMEM)`,
      failure,
      iface,
      'DSIEM_E_CAPTURE_RING',
      'lower bufferSize',
    )
  }
  const what = capturing ? `capture on ${iface}` : `sending frames on ${iface}`
  return new CaptureError(
    `${what} failed at step ${failure.step}: ${failure.syscall}() ${errnoText(failure.errno)}`,
    failure,
    iface,
    'DSIEM_E_CAPTURE',
  )
}
