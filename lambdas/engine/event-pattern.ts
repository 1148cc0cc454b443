/** EventBridge event patterns as data (placeholder: the matcher is being written). */
export type EventPattern = { readonly [key: string]: unknown };
