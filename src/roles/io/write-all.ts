// write(2) may take fewer bytes than it was given (a full pipe, a signal, a disk near full); every
// synchronous appender in dsiem writes through this one loop so none of them drops a tail.

import {writeSync} from 'node:fs'

/**
 * Writes all of `bytes`. With `eagainRetryMs`, a non-blocking output that is full (EAGAIN) is
 * retried for that long (the log output's flush at exit); else, and past it, the error is thrown.
 */
export function writeAllSync(fd: number, bytes: Uint8Array, eagainRetryMs = 0): void {
  const deadline = eagainRetryMs > 0 ? Date.now() + eagainRetryMs : 0
  let offset = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) throw error
    }
  }
}
