import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BlobServiceClient, ContainerSASPermissions } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../../testing/azurite.js';
import { startFaultProxy } from '../../../testing/fault-proxy.js';
import { isDriveseedError } from '../../errors.js';
import { urlSignerOf, type SignedBlobUrls } from '../blob-store.js';
import { PrefixStore } from '../prefix.js';
import { RetryStore } from '../retry.js';
import { AzureStore } from './azure-store.js';
import { getWithSignedUrl, needsContentMd5, putWithSignedUrl, withoutSignature } from './signed-blob.js';

const inTenMinutes = () => new Date(Date.now() + 10 * 60_000);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => isDriveseedError(e) && e.code === code);
}

describe('signed blob URLs on Azurite (service SAS for one blob)', () => {
  let azurite: Azurite;
  let store: AzureStore;
  let signer: SignedBlobUrls;

  before(async () => {
    azurite = await startAzurite();
    store = AzureStore.fromConnectionString(azurite.connectionString, 'signed');
    signer = urlSignerOf(store)!;
  });
  after(() => azurite.stop());

  it('a create URL writes its blob once: no overwrite, no read, no other name', async () => {
    const data = randomBytes(3000);
    const url = await signer.signedUrl('p/one', 'create', inTenMinutes());
    await putWithSignedUrl(url, data);
    assert.deepEqual(await store.get('p/one'), data);
    await rejectsWith(putWithSignedUrl(url, randomBytes(10)), 'CONFLICT');
    assert.deepEqual(await store.get('p/one'), data, 'the first write stands');
    await rejectsWith(getWithSignedUrl(url), 'FORBIDDEN');
    await rejectsWith(putWithSignedUrl(url.replace('/p/one?', '/p/two?'), data), 'FORBIDDEN');
    assert.equal(await store.exists('p/two'), false);
  });

  it('a read URL reads whole and ranged, and writes nothing', async () => {
    const data = randomBytes(5000);
    await store.put('r/one', data);
    const url = await signer.signedUrl('r/one', 'read', inTenMinutes());
    assert.deepEqual(await getWithSignedUrl(url), data);
    assert.deepEqual(await getWithSignedUrl(url, { offset: 100, length: 50 }), data.subarray(100, 150));
    await rejectsWith(putWithSignedUrl(url.replace('/r/one?', '/r/new?'), data), 'FORBIDDEN');
    await rejectsWith(getWithSignedUrl(await signer.signedUrl('r/missing', 'read', inTenMinutes())), 'NOT_FOUND');
  });

  it('an expired URL, a forged signature and another container are refused', async () => {
    const expired = await signer.signedUrl('x/late', 'create', new Date(Date.now() - 60_000));
    await rejectsWith(putWithSignedUrl(expired, randomBytes(10)), 'FORBIDDEN');
    const url = await signer.signedUrl('x/forged', 'create', inTenMinutes());
    await rejectsWith(putWithSignedUrl(url.replace(/sig=[^&]+/, 'sig=AAAA'), randomBytes(10)), 'FORBIDDEN');
    const other = AzureStore.fromConnectionString(azurite.connectionString, 'other-container');
    await other.put('keep', Buffer.from('x'));
    await rejectsWith(putWithSignedUrl(url.replace('/signed/', '/other-container/'), randomBytes(10)), 'FORBIDDEN');
    assert.equal(await store.exists('x/late'), false);
  });

  it('a folder signs inside itself only', async () => {
    const folder = new PrefixStore(store, 'vaults/v1/servers/s1');
    const url = await urlSignerOf(folder)!.signedUrl('data/ab/cd', 'create', inTenMinutes());
    assert.match(withoutSignature(url), /\/signed\/vaults\/v1\/servers\/s1\/data\/ab\/cd$/);
    await assert.rejects(urlSignerOf(folder)!.signedUrl('../s2/data', 'create', inTenMinutes()), /invalid blob name/);
    assert.doesNotMatch(withoutSignature(url), /sig=/);
  });

  it('behind retries, and in a folder over them, the store still signs, and the URLs work', async () => {
    const retried = new RetryStore(store);
    const data = randomBytes(2000);
    await putWithSignedUrl(await urlSignerOf(retried)!.signedUrl('w/one', 'create', inTenMinutes()), data);
    assert.deepEqual(await store.get('w/one'), data);
    const folder = new PrefixStore(retried, 'vaults/v2');
    const url = await urlSignerOf(folder)!.signedUrl('w/one', 'create', inTenMinutes());
    assert.match(withoutSignature(url), /\/signed\/vaults\/v2\/w\/one$/);
    await putWithSignedUrl(url, data);
    assert.deepEqual(await getWithSignedUrl(await urlSignerOf(folder)!.signedUrl('w/one', 'read', inTenMinutes())), data);
  });

  it('an MD5 guards the bytes only where they cross a network without TLS', () => {
    assert.equal(needsContentMd5('http://storage.example:10000/acct/c/b?sig=x'), true);
    assert.equal(needsContentMd5('http://10.0.0.5/acct/c/b?sig=x'), true);
    assert.equal(needsContentMd5('https://acct.blob.core.windows.net/c/b?sig=x'), false);
    assert.equal(needsContentMd5('http://127.0.0.1:10000/acct/c/b?sig=x'), false);
    assert.equal(needsContentMd5('http://localhost:10000/acct/c/b?sig=x'), false);
    assert.equal(needsContentMd5('http://[::1]:10000/acct/c/b?sig=x'), false);
  });

  it('with its MD5, a body damaged on the way is refused and nothing is stored', async () => {
    const endpoint = /BlobEndpoint=(http:\/\/[^/]+)/.exec(azurite.connectionString)![1];
    const proxy = await startFaultProxy(endpoint);
    try {
      proxy.corruptPuts = () => true;
      const url = (await signer.signedUrl('m/one', 'create', inTenMinutes())).replace(endpoint, proxy.origin);
      await rejectsWith(putWithSignedUrl(url, randomBytes(1000), { contentMd5: true }), 'STORAGE');
      assert.equal(await store.exists('m/one'), false);
      proxy.corruptPuts = undefined;
      await putWithSignedUrl(url, randomBytes(1000), { contentMd5: true });
      assert.equal(await store.exists('m/one'), true);
    } finally {
      await proxy.stop();
    }
  });

  it('a store opened with a SAS of its own cannot sign (its clients go through the service)', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('signed');
    const sas = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('rcwl'), expiresOn: inTenMinutes() });
    const endpoint = new URL(container.url);
    const connection = `BlobEndpoint=${endpoint.origin}/${endpoint.pathname.split('/')[1]};SharedAccessSignature=${sas.split('?')[1]}`;
    assert.equal(urlSignerOf(AzureStore.fromConnectionString(connection, 'signed')), undefined);
    assert.equal(urlSignerOf(new PrefixStore(AzureStore.fromConnectionString(connection, 'signed'), 'vaults')), undefined);
  });
});
