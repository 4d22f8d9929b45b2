/** Feature states (written once, in the vocabulary) and the default retry cap: cheap to import (the CLI's help uses them). */
export { featureStates as FEATURE_STATES, type FeatureState } from '../workflows/vocabulary.ts';
export const DEFAULT_MAX_RETRIES = 3;
