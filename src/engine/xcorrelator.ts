// Threat-intel and vulnerability cross-correlation (upstream's xcorrelator), the pure half: what the
// engine index exports from ./xcorrelator/, one job per file (plugin contract and set-up, the
// intel_*.json / vuln_*.json decoders, the Wise and Nesd answer decoders, the candidate terms an alarm
// is checked for, and the result cache). The HTTP calls and the per-alarm scheduling live in roles
// (io/intel-plugins.ts, alarm-enricher.ts).

export * from './xcorrelator/plugins.js'
export * from './xcorrelator/sources.js'
export * from './xcorrelator/responses.js'
export * from './xcorrelator/terms.js'
export * from './xcorrelator/cache.js'
