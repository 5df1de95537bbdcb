import { readFile, writeFile } from 'node:fs/promises';
import { DriveseedError } from '../../core/errors.js';

/**
 * The publish-settings file (the seed's download from the portal): where the service is,
 * which subscription, and the owner credential. It is a secret: written with mode 0600.
 */
export interface PublishSettings {
  version: 1;
  serviceUrl: string;
  subscriptionId: string;
  ownerKey: string;
}

export async function writePublishSettings(path: string, settings: Omit<PublishSettings, 'version'>): Promise<void> {
  await writeFile(path, JSON.stringify({ version: 1, ...settings }, null, 2) + '\n', { mode: 0o600 });
}

export async function readPublishSettings(path: string): Promise<PublishSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new DriveseedError('USAGE', `cannot read publish settings ${path}: ${(e as NodeJS.ErrnoException).code}`, {
      hint: 'download them with `driveseed service publish-settings`',
    });
  }
  let value: Partial<PublishSettings>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DriveseedError('USAGE', `${path} is not a publish-settings file (not JSON)`);
  }
  if (value.version !== 1 || !value.serviceUrl || !value.subscriptionId || !value.ownerKey) {
    throw new DriveseedError('USAGE', `${path} is not a driveseed publish-settings file (version 1)`);
  }
  return value as PublishSettings;
}
