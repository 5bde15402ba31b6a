/**
 * `switchboard worker --app <module> <channel...>` (Channels' `runworker`) on a private
 * redis-server: the user's ChannelNameRouter serves a named channel; SIGTERM stops it with exit 0.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { freePort, redisAvailable, startRedisServer, stopProcess } from '@switchboard/test-support';
import { RedisChannelLayer } from 'switchboard/redis';
import { runCli, stopCli, tempProject, type TempProject } from './cli-process.js';

const WORKER = `
import { ChannelConsumer, ChannelNameRouter } from 'switchboard';
class Thumbnails extends ChannelConsumer {
  async thumbnailMake(event) {
    await this.channelLayer.groupSend('thumbnails-done', { type: 'thumbnail.done', id: event.id, by: 'user worker' });
  }
}
export default new ChannelNameRouter({ thumbnails: Thumbnails });
`;

describe('switchboard worker', { skip: redisAvailable() ? false : 'Redis unreachable' }, () => {
  let project: TempProject;
  let redis: ChildProcess;
  let url: string;
  before(async () => {
    project = tempProject();
    project.write('worker.mjs', WORKER);
    project.write('no-worker.mjs', "import { URLRouter } from 'switchboard';\nexport default new URLRouter([]);\n");
    const port = await freePort();
    redis = await startRedisServer(port);
    url = `redis://127.0.0.1:${port}/0`;
  });
  after(async () => {
    project.remove();
    await stopProcess(redis);
  });

  it('serves the named channel with the module\'s consumer and exits 0 on SIGTERM', async () => {
    const run = runCli(['worker', '--app', './worker.mjs', 'thumbnails'], project.dir, { CHANNEL_LAYER_URL: url });
    const layer = await RedisChannelLayer.fromUrl(url);
    try {
      const reply = await layer.newChannel();
      await layer.groupAdd('thumbnails-done', reply);
      // The worker may still be starting: the named channel is a Redis list, so the job waits for it.
      await layer.send('thumbnails', { type: 'thumbnail.make', id: 7 });
      const done = await Promise.race([
        layer.receive(reply),
        run.exited.then((code) => {
          throw new Error(`the worker exited with ${code}: ${run.stderr()}`);
        }),
      ]);
      assert.deepEqual(done, { type: 'thumbnail.done', id: 7, by: 'user worker' });
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.stderr());
    } finally {
      await stopCli(run);
      await layer.close();
    }
  });

  const usageErrors: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['no cross-process layer', ['worker', '--app', './worker.mjs', 'thumbnails'], {}, /a worker needs a channel layer shared with the server: set CHANNEL_LAYER_URL=redis:/],
    ['a channel the module does not serve', ['worker', '--app', './worker.mjs', 'resize'], { CHANNEL_LAYER_URL: 'redis://unused' }, /no worker consumer for "resize"; this app serves thumbnails/],
    ['a module without a ChannelNameRouter', ['worker', '--app', './no-worker.mjs', 'thumbnails'], { CHANNEL_LAYER_URL: 'redis://unused' }, /exports no ChannelNameRouter/],
    ['a missing module', ['worker', '--app', './missing.mjs', 'thumbnails'], { CHANNEL_LAYER_URL: 'redis://unused' }, /cannot find the app module/],
  ];
  for (const [what, args, env, message] of usageErrors) {
    it(`exits 2 for ${what}`, async () => {
      const run = runCli(args, project.dir, env);
      assert.equal(await run.exited, 2, run.stderr());
      assert.match(run.stderr(), message);
    });
  }
});
