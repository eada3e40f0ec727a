// The links of the network benchmarks (tests/lib/netsim.js shapes):
// network-bench.mjs (sending) and receive-bench.mjs (receiving).
export const LINKS = {
  clean: {},
  '2mbit': { rate: '2mbit' },
  '1mbit': { rate: '1mbit' },
  '500kbit': { rate: '500kbit' },
  loss1: { loss: 0.01 },
  loss3: { loss: 0.03 },
  loss5: { loss: 0.05 },
  '1mbit-loss2': { rate: '1mbit', loss: 0.02 },
  step: { rate: '3mbit' },
};
