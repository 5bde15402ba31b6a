/** ChannelNameRouter + runWorker on the in-memory layer: order, failure isolation, stopping. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigError, InMemoryChannelLayer, InvalidChannelNameError, type LayerMessage } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { ChannelNameRouter } from '../../src/worker/channel-name-router.js';
import { ChannelConsumer } from '../../src/worker/consumer.js';
import { runWorker } from '../../src/worker/run-worker.js';

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string; stack: string };
  type?: string;
}

/** A pino logger that keeps its lines, for asserting on warnings and errors. */
function recordingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** Records what it handles; `job.fail` throws, `job.slow` waits for a release. */
class JobConsumer extends ChannelConsumer {
  static handled: Array<{ channel: string; n: unknown }> = [];
  static release: (() => void) | undefined;

  jobRun(event: LayerMessage): void {
    JobConsumer.handled.push({ channel: this.channelName, n: event['n'] });
  }

  async jobSlow(event: LayerMessage): Promise<void> {
    await new Promise<void>((resolve) => {
      JobConsumer.release = resolve;
    });
    JobConsumer.handled.push({ channel: this.channelName, n: event['n'] });
  }

  jobFail(): void {
    throw new Error('job failed on purpose');
  }

  async jobReject(): Promise<void> {
    throw new Error('job rejected on purpose');
  }
}

function reset(): void {
  JobConsumer.handled = [];
  JobConsumer.release = undefined;
}

describe('ChannelNameRouter', () => {
  it('lists its channels and finds their consumers', () => {
    const router = new ChannelNameRouter({ thumbnails: JobConsumer, 'chat-archive': JobConsumer });
    assert.deepEqual(router.channels, ['thumbnails', 'chat-archive']);
    assert.equal(router.consumerFor('thumbnails'), JobConsumer);
    assert.equal(router.has('nope'), false);
    assert.throws(() => router.consumerFor('nope'), (e: unknown) => e instanceof ConfigError && e.code === 'SB_ERR_CONFIG' && /serves "thumbnails", "chat-archive"/.test(e.message));
  });

  it('refuses bad names, process-local names and non-consumers', () => {
    assert.throws(() => new ChannelNameRouter({ 'has space': JobConsumer }), InvalidChannelNameError);
    assert.throws(() => new ChannelNameRouter({ 'specific.abc!def': JobConsumer }), (e: unknown) => e instanceof ConfigError && /process-local/.test(e.message));
    assert.throws(() => new ChannelNameRouter({ jobs: class {} as never }), (e: unknown) => e instanceof ConfigError && /extending ChannelConsumer/.test(e.message));
    assert.throws(() => new ChannelNameRouter({}), ConfigError);
  });
});

describe('runWorker', () => {
  it('handles the messages of a channel one at a time, in order', async () => {
    reset();
    const layer = new InMemoryChannelLayer();
    const controller = new AbortController();
    const worker = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), signal: controller.signal });
    try {
      await layer.send('jobs', { type: 'job.slow', n: 1 });
      await layer.send('jobs', { type: 'job.run', n: 2 });
      await layer.send('jobs', { type: 'job.run', n: 3 });
      await waitFor(() => JobConsumer.release !== undefined, { message: 'the slow job started' });
      // The slow job holds the channel: nothing after it has run.
      assert.equal(JobConsumer.handled.length, 0);
      JobConsumer.release!();
      await waitFor(() => JobConsumer.handled.length === 3, { message: 'three jobs handled' });
      assert.deepEqual(JobConsumer.handled.map((h) => h.n), [1, 2, 3]);
    } finally {
      controller.abort();
      await worker;
      await layer.close();
    }
  });

  it('serves several channels independently, one consumer instance each', async () => {
    reset();
    const layer = new InMemoryChannelLayer();
    const controller = new AbortController();
    const instances = new Set<ChannelConsumer>();
    class Tracking extends JobConsumer {
      override jobRun(event: LayerMessage): void {
        instances.add(this);
        super.jobRun(event);
      }
    }
    const router = new ChannelNameRouter({ a: Tracking, b: Tracking });
    const worker = runWorker({ layer, router, channels: ['a', 'b'], signal: controller.signal });
    try {
      await layer.send('a', { type: 'job.slow', n: 'a1' });
      await waitFor(() => JobConsumer.release !== undefined, { message: 'a is busy' });
      // b is not held up by a's slow job.
      await layer.send('b', { type: 'job.run', n: 'b1' });
      await layer.send('b', { type: 'job.run', n: 'b2' });
      await waitFor(() => JobConsumer.handled.length === 2, { message: 'b handled twice while a waits' });
      assert.deepEqual(JobConsumer.handled, [{ channel: 'b', n: 'b1' }, { channel: 'b', n: 'b2' }]);
      JobConsumer.release!();
      await layer.send('a', { type: 'job.run', n: 'a2' });
      await waitFor(() => JobConsumer.handled.length === 4, { message: 'a caught up' });
      assert.equal(instances.size, 2);
    } finally {
      controller.abort();
      await worker;
      await layer.close();
    }
  });

  it('logs a throwing or rejecting handler with its stack and goes on with the next message', async () => {
    reset();
    const layer = new InMemoryChannelLayer();
    const { logger, lines } = recordingLogger();
    const controller = new AbortController();
    const worker = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), logger, signal: controller.signal });
    try {
      await layer.send('jobs', { type: 'job.fail' });
      await layer.send('jobs', { type: 'job.reject' });
      await layer.send('jobs', { type: 'job.run', n: 'after' });
      await waitFor(() => JobConsumer.handled.length === 1, { message: 'the job after the failures ran' });
      const errors = lines.filter((l) => l.level === 50);
      assert.equal(errors.length, 2);
      assert.match(errors[0]!.msg, /JobConsumer\.jobFail\(\) threw on channel jobs/);
      assert.match(errors[0]!.err!.stack, /job failed on purpose\n\s+at /);
      assert.match(errors[1]!.err!.message, /job rejected on purpose/);
    } finally {
      controller.abort();
      await worker;
      await layer.close();
    }
  });

  it('warns once per event type without a handler, and refuses private and lifecycle types', async () => {
    reset();
    const layer = new InMemoryChannelLayer();
    const { logger, lines } = recordingLogger();
    const controller = new AbortController();
    const worker = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), logger, signal: controller.signal });
    try {
      await layer.send('jobs', { type: 'job.unknown' });
      await layer.send('jobs', { type: 'job.unknown' });
      await layer.send('jobs', { type: 'channel.layer' }); // → channelLayer: a property, not a handler
      await layer.send('jobs', { type: 'is.prototype.of' }); // → isPrototypeOf: inherited from Object
      await layer.send('jobs', { type: 'job.run', n: 'last' });
      await waitFor(() => JobConsumer.handled.length === 1, { message: 'the last job ran' });
      const warnings = lines.filter((l) => l.level === 40);
      assert.equal(warnings.filter((w) => /no handler jobUnknown\(\)/.test(w.msg)).length, 1);
      assert.equal(warnings.filter((w) => /channelLayer/.test(w.msg)).length, 1);
      assert.equal(warnings.filter((w) => /no handler isPrototypeOf\(\)/.test(w.msg)).length, 1);
    } finally {
      controller.abort();
      await worker;
      await layer.close();
    }
  });

  it('stops on abort once the running handler finished, and gives back a message received after', async () => {
    reset();
    const layer = new InMemoryChannelLayer();
    const controller = new AbortController();
    let stopped = false;
    const worker = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), signal: controller.signal }).then(() => {
      stopped = true;
    });
    await layer.send('jobs', { type: 'job.slow', n: 1 });
    await waitFor(() => JobConsumer.release !== undefined, { message: 'the slow job started' });
    controller.abort();
    // The handler in flight is awaited, not abandoned: the worker cannot finish while it runs.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false);
    JobConsumer.release!();
    await worker;
    assert.deepEqual(JobConsumer.handled.map((h) => h.n), [1]);

    // Idle worker: the receive() it abandons on abort takes the next message and sends it back.
    reset();
    const idle = new AbortController();
    const second = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), signal: idle.signal });
    idle.abort();
    await second;
    await layer.send('jobs', { type: 'job.run', n: 'kept' });
    let timer: NodeJS.Timeout | undefined;
    const kept = await Promise.race([
      layer.receive('jobs'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the message did not come back to the channel within 2 s')), 2_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual({ ...kept }, { type: 'job.run', n: 'kept' });
    assert.equal(JobConsumer.handled.length, 0);
    await layer.close();
  });

  it('returns at once when the signal is already aborted', async () => {
    const layer = new InMemoryChannelLayer();
    await runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), signal: AbortSignal.abort() });
    await layer.close();
  });

  it('stops cleanly when the layer closes', async () => {
    const layer = new InMemoryChannelLayer();
    const worker = runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }) });
    await layer.close();
    await worker; // resolves: LayerClosedError ends the loop without an error
  });

  it('refuses channels the router does not serve before receiving anything', async () => {
    const layer = new InMemoryChannelLayer();
    await assert.rejects(
      runWorker({ layer, router: new ChannelNameRouter({ jobs: JobConsumer }), channels: ['jobs', 'thumbnails'] }),
      (e: unknown) => e instanceof ConfigError && /no consumer for channel "thumbnails"/.test(e.message),
    );
    await layer.close();
  });
});
