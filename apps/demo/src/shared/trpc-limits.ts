/**
 * Most calls one tRPC batch may carry. The server refuses bigger batches before running any call (one request
 * must not buy a thousand queries); the browser's batch link splits at the same number, so it never hits the cap.
 */
export const TRPC_MAX_BATCH_SIZE = 20
