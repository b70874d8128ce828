import type { AdmissionRequest } from "./ports.js";

/**
 * The admission rule (ports.ts admitMany) for adapters that decide it outside the
 * database (MongoDB); PostgreSQL applies the same rule in admit_submissions. In request
 * order, a capped request is admitted while its user's stored in-flight count plus the
 * batch-mates admitted before it is below maxInFlight; every admitted request counts for
 * the ones after it, capped or not. inFlight is that running count before the request.
 */
export function admissionPlaces(requests: readonly AdmissionRequest[], maxInFlight: number, stored: ReadonlyMap<string, number>): { admitted: boolean; inFlight: number }[] {
  const running = new Map(stored);
  return requests.map(({ input, capped }) => {
    const inFlight = running.get(input.userId) ?? 0;
    if (capped && inFlight >= maxInFlight) return { admitted: false, inFlight };
    running.set(input.userId, inFlight + 1);
    return { admitted: true, inFlight };
  });
}
