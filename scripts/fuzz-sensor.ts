// The long fuzz run: `npm run fuzz` (optionally `-- <iterations> <seed>`). Prints progress and the
// totals; a failure prints the seed and round that reproduce it, and exits 1.

import {fuzzSensor} from '../test/helpers/sensor-fuzz.js'

const iterations = Number(process.argv[2] ?? 20_000)
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31)
const batch = 500
const started = performance.now()
const totals = {frames: 0, files: 0, records: 0, typedFileErrors: 0}
try {
  for (let done = 0; done < iterations; done += batch) {
    const stats = fuzzSensor(seed + done, Math.min(batch, iterations - done))
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += stats[key]
    process.stderr.write(`\r${Math.min(iterations, done + batch)}/${iterations} rounds`)
  }
  process.stderr.write('\n')
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({seed, iterations, seconds: Number(seconds.toFixed(1)), ...totals}))
} catch (error) {
  process.stderr.write(`\n${(error as Error).message}\n`)
  process.exit(1)
}
