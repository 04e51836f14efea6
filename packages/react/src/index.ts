export { formatDuration, summarizeProgress } from './progress'
export type { ProgressSample, ProgressSummary } from './progress'
