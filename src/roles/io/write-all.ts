// write(2) may take fewer bytes than it was given (a full pipe, a signal, a disk near full); every
// synchronous appender in dsiem writes through this one loop so none of them drops a tail.

import {writeSync} from 'node:fs'

export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset)
}
