// Files a running `dsiem serve` leaves for its neighbours: a pid file (so `dsiem directive reload` can
// signal it, and so a second server on the same data dir is refused instead of interleaving its alarm
// lines and store writes with the first one's) and upstream's configs/dsiem_config.json (the effective settings, keys lower-cased, which
// the upstream web UI reads for its status and tag lists).

import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {EnvironmentError} from '../../engine/index.js'
import type {ServeConfig} from '../serve-config.js'

export function pidFilePath(dataDir: string): string {
  return path.join(dataDir, 'dsiem.pid')
}

/** The pid in a pid file when that process is still alive, else undefined (no file, stale, garbage). */
export function livePidIn(file: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(file, 'utf8').trim())
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    // EPERM: alive, but owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}

/**
 * Claims DATA_DIR by writing DATA_DIR/dsiem.pid. A live dsiem in the same data dir is refused; a stale
 * file (its process gone) is taken over. A data dir that cannot hold the file is an EnvironmentError
 * naming it.
 */
export function writePidFile(dataDir: string): string {
  const file = pidFilePath(dataDir)
  const other = livePidIn(file)
  if (other !== undefined && other !== process.pid) {
    throw new EnvironmentError(
      `data dir ${dataDir} is in use by another dsiem serve (pid ${other})`,
      'DSIEM_E_DATA_DIR_IN_USE',
      {hint: 'stop that one, or give this one its own --data-dir (DSIEM_DATA_DIR)'},
    )
  }
  try {
    mkdirSync(dataDir, {recursive: true})
    writeFileSync(file, `${process.pid}\n`, {mode: 0o644})
  } catch (error) {
    throw new EnvironmentError(
      `cannot write the pid file ${file}: ${(error as Error).message}`,
      'DSIEM_E_DATA_DIR',
      {
        cause: error,
        hint: 'pass --data-dir (DSIEM_DATA_DIR) pointing at a writable directory',
      },
    )
  }
  return file
}

export function removePidFile(dataDir: string): void {
  const file = pidFilePath(dataDir)
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file)
  } catch {
    // already gone
  }
}

/** The pid of the `dsiem serve` using this data dir, checked to be alive. */
export function runningServePid(dataDir: string): number {
  const file = pidFilePath(dataDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new EnvironmentError(
      `no running dsiem serve found: ${file} does not exist`,
      'DSIEM_E_NOT_RUNNING',
      {
        hint: 'pass the --data-dir the server was started with',
      },
    )
  }
  const pid = Number(text.trim())
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new EnvironmentError(`${file} does not hold a process id`, 'DSIEM_E_NOT_RUNNING')
  }
  try {
    process.kill(pid, 0)
  } catch {
    throw new EnvironmentError(`dsiem serve (pid ${pid} from ${file}) is not running`, 'DSIEM_E_NOT_RUNNING')
  }
  return pid
}

/** Upstream writes every effective setting with lower-cased keys; a failure only warns. */
export function writeEffectiveConfig(config: ServeConfig, mode: string): {file: string; error?: string} {
  const file = path.join(config.configDir, 'dsiem_config.json')
  const settings = {
    address: config.address,
    cacheduration: config.cacheDuration,
    frontend: config.frontend,
    holdduration: config.holdDuration,
    intelprivateip: config.intelPrivateIp,
    maxdelay: config.maxDelay,
    maxeps: config.maxEps,
    maxqueue: config.maxQueue,
    medriskmax: config.medRiskMax,
    medriskmin: config.medRiskMin,
    minalarmlifetime: config.minAlarmLifetime,
    mineps: config.minEps,
    mode,
    msq: config.natsUrl,
    node: config.node,
    port: config.port,
    status: config.status,
    tags: config.tags,
    websocket: config.websocket,
    writeableconfig: config.writeableConfig,
  }
  try {
    writeFileSync(file, JSON.stringify(settings, null, 2) + '\n')
    return {file}
  } catch (error) {
    return {file, error: (error as Error).message}
  }
}
