// Worker threads running one of our own modules. Built code (dist/*.js) hands the file to the Worker
// directly. Source run through tsx (tests, benchmarks) is a .ts file, which a worker cannot load until
// tsx's loader is registered inside it (it does not inherit the parent's --import), so that case boots
// through a one-line module that registers tsx first and then imports the real one.

import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Worker, type WorkerOptions} from 'node:worker_threads'

/** The URL of module `name` beside `importMetaUrl`, with the caller's extension (.js built, .ts source). */
export function siblingModule(importMetaUrl: string, name: string): URL {
  return new URL(`./${name}${path.extname(fileURLToPath(importMetaUrl))}`, importMetaUrl)
}

export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options)
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}) })`
  return new Worker(boot, {...options, eval: true})
}
