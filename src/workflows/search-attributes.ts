import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered by `autocoder up` (temporal server start-dev --search-attribute ...). */
export const searchAttributes = {
  project: defineSearchAttributeKey('AutocoderProject', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('AutocoderKind', SearchAttributeType.KEYWORD),
  feature: defineSearchAttributeKey('AutocoderFeature', SearchAttributeType.INT),
} as const;

/** `--search-attribute NAME=Type` values for the Temporal CLI, in one place. */
export const searchAttributeFlags = [
  'AutocoderProject=Keyword',
  'AutocoderKind=Keyword',
  'AutocoderFeature=Int',
] as const;
