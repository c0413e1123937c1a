// The same-run baseline of `bench:serve`: the least any Node server on node:http must do per event
// (the performance notes' §6 anchor, "node:http, 400 B JSON POST, body parsed"). It reads the body of
// POST /events, JSON.parses it and answers 200 with an empty body, the answer dsiem gives; it
// correlates and writes nothing. Driven by the same generator as dsiem, its figures say how much of
// dsiem's single-event rate is lost to the work dsiem does, and how fast the VM ran at that time.
//
// Usage: node --import tsx bench/lib/http-floor-server.ts <port>

import {createServer} from 'node:http'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) throw new Error(`http-floor-server: not a port: ${process.argv[2]}`)

let parsed = 0
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify({parsed}))
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
      parsed++
      res.writeHead(200, {'content-length': '0'})
    } catch {
      res.writeHead(500, {'content-length': '0'})
    }
    res.end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(port, '127.0.0.1')
process.once('SIGTERM', () => server.close(() => process.exit(0)))
