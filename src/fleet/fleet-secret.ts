/**
 * The secret gateways present to a node's preview endpoint (ASYNCLAB_FLEET_SECRET). Nodes serve
 * previews on a private network; the secret makes sure that only the fleet's gateways — which
 * have already checked the page's Origin and the run's capability — reach a run's server.
 */
import { tokensEqual } from '../runner/gate.ts';

/** The header a gateway sends it in. It starts with `x-asynclab-`, which the preview proxy never passes to an app. */
export const fleetSecretHeader = 'x-asynclab-fleet-secret';

const minLength = 32;

/** The secret from the environment, or why it cannot be used. */
export function fleetSecretFromEnv(env: NodeJS.ProcessEnv = process.env): { secret: string } | { problem: string } {
  const secret = env.ASYNCLAB_FLEET_SECRET ?? '';
  if (secret.length < minLength) return { problem: `ASYNCLAB_FLEET_SECRET must be set to at least ${minLength} random characters (the same on every gateway and node)` };
  return { secret };
}

export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  return typeof given === 'string' && tokensEqual(given, secret);
}
