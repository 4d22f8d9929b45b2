/**
 * How an agent run is named to people (status, the live view, the Temporal UI summary): "coding #4", or for a batch "coding #4 +#5 +#7": the kind and the features, the first first.
 */
export function agentLabel(kind: string, featureId: number | null, featureIds?: readonly number[]): string {
  if (featureId === null) return kind;
  const rest = (featureIds ?? []).filter((id) => id !== featureId);
  return [`${kind} #${featureId}`, ...rest.map((id) => `+#${id}`)].join(' ');
}
