import { Option } from 'commander';
import { collect } from './common.js';

/*
 * Options that several commands take, defined once so that their spelling and help agree.
 */

/** What the identity commands sign in to the service with: its URL, the subscription, the owner key. */
export const publishSettingsOption = (): Option => new Option('--publish-settings <file>', 'publish-settings file').makeOptionMandatory();

/** An application, by the id the service gave it. */
export const applicationOption = (): Option => new Option('--app <id>', 'application id').makeOptionMandatory();

/** What the agent leaves out of the paths it protects or estimates. */
export const excludeOption = (): Option => new Option('-e, --exclude <glob>', 'leave out matching paths (repeatable)').argParser(collect);
