/** The feature file format: schema, loader with complete error reports, and terminal-safe text. */
export {
  featureEntrySchema,
  featureFileSchema,
  featureListSchema,
  INT32_MAX,
  MAX_FEATURE_FILE_BYTES,
  type FeatureFileEntry,
} from './schema.ts';
export {
  checkFeatureData,
  FEATURE_FILE_SCHEMA_PATH,
  loadFeatureFile,
  parseFeatureBytes,
  parseFeatureText,
  toGraphFeatures,
} from './file.ts';
export { formatPath, type Problem } from './problems.ts';
export { featureFileJsonSchema } from './json-schema.ts';
export { escapeForTerminal } from './terminal.ts';
