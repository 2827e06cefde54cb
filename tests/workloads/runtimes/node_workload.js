// One behaviour of a Node.js process, for the runtime corpus. Prints "ready", then "figure NAME VALUE" lines
// from process.memoryUsage(): V8's own account of its heap.
'use strict';
const mode = process.argv[2];
const figure = () => {
  const m = process.memoryUsage();
  console.log(`figure heap_used ${m.heapUsed}`);
  console.log(`figure heap_total ${m.heapTotal}`);
};
const kept = [];
let i = 0;
console.log('ready');
if (mode === 'growth') {
  // About 3 MiB/s of small objects kept alive.
  setInterval(() => {
    for (let k = 0; k < 25000; k++) kept.push({ id: i, name: 'record-' + i++ });
    figure();
  }, 100);
} else if (mode === 'churn') {
  setInterval(() => {
    let garbage = [];
    for (let k = 0; k < 100000; k++) garbage.push({ id: k, name: 'tmp-' + k });
    garbage = null;
    figure();
  }, 50);
} else if (mode === 'stable') {
  for (let k = 0; k < 300000; k++) kept.push({ id: k });
  setInterval(figure, 1000);
}
