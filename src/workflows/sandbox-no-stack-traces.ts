/**
 * Preloaded into the workflow sandbox (src/workflow-bundle.ts), before the SDK freezes its
 * globals: errors made in workflow code capture no stack frames.
 *
 * Why: the SDK's promise hook captures and source-maps a stack trace for every promise a
 * workflow creates, for the `__stack_trace` query (temporalio/sdk-typescript#1587); that was a
 * third of the workflow threads' CPU in the benchmarks (`bin/node --cpu-prof bench/orchestration.ts
 * chain20-c3`). With no frames there is nothing to map. The price: workflow errors and the UI's
 * Stack Trace tab show no frames; AUTOCODER_WORKFLOW_STACK_TRACES=1 gives a worker them back.
 */
Error.stackTraceLimit = 0;

export {};
