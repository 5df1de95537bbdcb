import type { Attention } from '../../api/schemas.js';

/**
 * One thing that needs a person, as "needs attention" lists it and an alert is raised for it.
 * `kind` and `subject` (the server, drive or import-job deadline it is about) make it one
 * condition: the same pair on the next look is the same condition, not a new one.
 */
export interface Condition extends Attention {
  subject: string;
  /** The vault of a server's condition; none for an import job's. */
  vaultName?: string;
}
