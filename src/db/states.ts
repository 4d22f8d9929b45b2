/** Feature states and the default retry cap: constants only, cheap to import (the CLI's help uses them). */
export type FeatureState = 'pending' | 'running' | 'passing' | 'failed' | 'blocked';
export const FEATURE_STATES: readonly FeatureState[] = ['pending', 'running', 'passing', 'failed', 'blocked'];
export const DEFAULT_MAX_RETRIES = 3;
