import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routePath, routes, type Route } from './routes.js';

describe('the route table', () => {
  it('declares exactly the parameters each path has', () => {
    for (const [name, route] of Object.entries(routes) as [string, Route][]) {
      const inPath = [...route.path.matchAll(/:(\w+)|\*$/g)].map((m) => m[1] ?? '*').sort();
      assert.deepEqual(inPath, Object.keys(route.params?.properties ?? {}).sort(), name);
    }
  });

  it('has one route per method and path', () => {
    const keys = Object.values(routes).map((r) => `${r.method} ${r.path}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('builds a path with every parameter encoded, a blob name segment by segment', () => {
    const server = { subscriptionId: 'sub 1', vaultName: 'main', serverId: 'a/b' };
    assert.equal(routePath(routes.serverStatus, server), '/v1/subscriptions/sub%201/vaults/main/servers/a%2Fb');
    assert.equal(routePath(routes.getBlob, { ...server, '*': 'data/ab/c?d' }), '/v1/subscriptions/sub%201/vaults/main/servers/a%2Fb/blobs/data/ab/c%3Fd');
  });

  it('adds the query values given, and only those', () => {
    const server = { subscriptionId: 's', vaultName: 'v', serverId: 'x' };
    assert.equal(routePath(routes.listBlobs, server, { prefix: 'data/a&b' }), '/v1/subscriptions/s/vaults/v/servers/x/blobs?prefix=data%2Fa%26b');
    assert.equal(routePath(routes.listBlobs, server, { prefix: undefined }), '/v1/subscriptions/s/vaults/v/servers/x/blobs');
  });

  it('refuses a path with a parameter missing', () => {
    assert.throws(() => routePath(routes.serverStatus, { subscriptionId: 's', vaultName: 'v' }), /:serverId/);
  });
});
