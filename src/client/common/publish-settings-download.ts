import { ServiceClient } from '../../api/service-client.js';
import { writePublishSettings } from './publish-settings.js';

/**
 * `service publish-settings`: the file the other tools take with --publish-settings (the
 * seed's download from the portal). The owner key is checked against the service first, so
 * a typo does not end up in a file. Returns the service URL as written, without a trailing /.
 */
export async function downloadPublishSettings(out: string, given: { serviceUrl: string; subscriptionId: string; ownerKey: string }): Promise<string> {
  const serviceUrl = given.serviceUrl.replace(/\/+$/, '');
  await new ServiceClient(serviceUrl, { ownerKey: given.ownerKey }).whoami(given.subscriptionId);
  await writePublishSettings(out, { serviceUrl, subscriptionId: given.subscriptionId, ownerKey: given.ownerKey });
  return serviceUrl;
}
