// Go-style durations (proto/api/duration.ts, shared with the control plane's flags).
export { parseDuration } from '../proto/api/duration.js';
