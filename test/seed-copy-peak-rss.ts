/*
 * Copies files from one Azure container prefix to another with the seed copy's copyVerified,
 * in a process of its own, and prints its peak RSS before and after the large copy: a test
 * holds the copy to a memory ceiling without the test runner's own heap in the figure.
 *
 *   AZURE_STORAGE_CONNECTION_STRING=… node dist/test/seed-copy-peak-rss.js CONTAINER FROM TO WARM-UP-NAME NAME
 * prints {"warmRssKb": n, "peakRssKb": n, "copied": bytes or "damaged"}
 */
import { AzureStore } from '../src/core/storage/azure/azure-store.js';
import { PrefixStore } from '../src/core/storage/prefix.js';
import { copyVerified } from '../src/service/vault/seed-copy.js';

const [container, from, to, warmUp, name] = process.argv.slice(2) as [string, string, string, string, string];
const blobs = AzureStore.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING!, container);
const source = new PrefixStore(blobs, from);
const target = new PrefixStore(blobs, to);
// A small copy first, so the SDK, its HTTP agent and the code are loaded before the baseline.
await copyVerified(source, target, warmUp);
const warmRssKb = process.resourceUsage().maxRSS;
const copied = await copyVerified(source, target, name);
// maxRSS is the kernel's high-water mark of the whole process.
process.stdout.write(JSON.stringify({ warmRssKb, peakRssKb: process.resourceUsage().maxRSS, copied }));
