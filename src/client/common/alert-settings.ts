import type { Alert, AlertTarget, CreateAlertTarget } from '../../api/schemas.js';
import { ServiceClient } from '../../api/service-client.js';
import { readPublishSettings } from './publish-settings.js';

/** The subscription's owner, from the publish settings: alerts are set for the whole subscription (or one vault of it). */
async function ownerOf(publishSettings: string): Promise<{ client: ServiceClient; params: { subscriptionId: string } }> {
  const settings = await readPublishSettings(publishSettings);
  return { client: new ServiceClient(settings.serviceUrl, { ownerKey: settings.ownerKey }), params: { subscriptionId: settings.subscriptionId } };
}

/** `alerts add`: an e-mail address or a webhook that alerts go to. */
export async function addAlertTarget(publishSettings: string, target: CreateAlertTarget): Promise<AlertTarget> {
  const { client, params } = await ownerOf(publishSettings);
  return client.request('createAlertTarget', { params, body: target });
}

export async function alertTargets(publishSettings: string): Promise<AlertTarget[]> {
  const { client, params } = await ownerOf(publishSettings);
  return (await client.request('listAlertTargets', { params })).targets;
}

export async function removeAlertTarget(publishSettings: string, targetId: string): Promise<void> {
  const { client, params } = await ownerOf(publishSettings);
  await client.request('deleteAlertTarget', { params: { ...params, targetId } });
}

export async function listAlerts(publishSettings: string, all: boolean): Promise<Alert[]> {
  const { client, params } = await ownerOf(publishSettings);
  return (await client.request('listAlerts', { params, query: { state: all ? 'all' : 'open' } })).alerts;
}
