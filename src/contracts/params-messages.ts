import type { Action } from './identifiers.js';
import { quoteForMessage } from './message-text.js';

interface ParamsIssue {
  code: string;
  input?: unknown;
  keys?: string[];
}

/**
 * The error function of an action's params object: when params is missing it names what the action
 * needs ("params.image is required for deploy"); for unknown keys it lists what the action takes.
 */
export function paramsError(action: Action, takes: readonly string[], requiredWhenMissing?: string) {
  return (iss: ParamsIssue): string | undefined => {
    if (iss.code === 'invalid_type' && iss.input === undefined && requiredWhenMissing) {
      return `params.${requiredWhenMissing} is required for ${action}`;
    }
    if (iss.code === 'unrecognized_keys' && iss.keys) {
      const fields = iss.keys.map(quoteForMessage).join(', ');
      const noun = iss.keys.length === 1 ? 'field' : 'fields';
      const allowed =
        takes.length === 0 ? `${action} takes no params` : `${action} takes ${takes.join(', ')}`;
      return `unknown ${noun} ${fields} (${allowed})`;
    }
    return undefined;
  };
}
