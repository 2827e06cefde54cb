// Target for V8IntrospectionTests: a Node process MemWatch asks for its heap statistics from outside.
// Modes: "idle" keeps 100k objects, serves HTTP on 127.0.0.1 (GET /ping answers "pong N") and runs a 20 ms heartbeat
// that counts ticks and anomalies (a tick more than 2 ms early, or an error event); "busy" runs JavaScript in a tight
// loop for the given seconds, then idles. Prints "READY PORT" once listening. Commands on stdin, one per line:
// "stats" prints "stats JSON" with v8.getHeapStatistics() and v8.getHeapSpaceStatistics() (V8's own account, read
// in the same tick) and the heartbeat's counters; "loops" prints "loops N" (busy iterations done so far).
'use strict';
const http = require('http');
const v8 = require('v8');
const readline = require('readline');
const mode = process.argv[2];
const kept = [];
for (let k = 0; k < 100000; k++) kept.push({ id: k, name: 'kept-' + k });
let ticks = 0, early = 0, errors = 0, served = 0, loops = 0;
let last = process.hrtime.bigint();
setInterval(() => {
  const now = process.hrtime.bigint();
  if (now - last < 18000000n) early++;
  last = now;
  ticks++;
}, 20);
process.on('uncaughtException', () => { errors++; });
const server = http.createServer((req, res) => { served++; res.end('pong ' + served); });
server.on('error', () => { errors++; });
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') {
    const s = { heap: v8.getHeapStatistics(), spaces: v8.getHeapSpaceStatistics(), ticks, early, errors, served, loops };
    console.log('stats ' + JSON.stringify(s));
  } else if (line === 'loops') {
    console.log('loops ' + loops);
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log('READY ' + server.address().port);
  if (mode === 'busy') {
    const end = Date.now() + Number(process.argv[3] || 10) * 1000;
    let x = 0;
    while (Date.now() < end) { x = (x * 31 + 7) % 1000003; loops++; }
    kept.push(x);
  }
});
