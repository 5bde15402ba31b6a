/**
 * The channel-layer conformance suite: every layer (in-memory, Redis, yours) runs the same tests
 * of the contract in `docs/channel-layer-spec.md`. Exported for layer authors, after Hono's
 * shared router tests and Centrifuge's shared broker tests.
 *
 * It only uses the public `ChannelLayer` interface, so it holds for cross-process layers too:
 * deliveries may be asynchronous, so every check on a delivery waits with a deadline
 * ({@link waitFor}, 2 s) instead of sleeping and asserting.
 */
import { describe, it } from 'node:test';
import { LayerClosedError } from '../errors.js';
import type { ChannelLayer, ChannelLayerOptions } from '../layers/channel-layer.js';
import type { ConformanceCase } from './layer-case-helpers.js';
import { GROUP_CASES } from './layer-cases-groups.js';
import { LIFECYCLE_CASES } from './layer-cases-lifecycle.js';
import { MESSAGE_CASES } from './layer-cases-messages.js';
import { PARITY_CASES } from './layer-cases-parity.js';

/** Creates a fresh layer for one test. */
export type ChannelLayerFactory = () => ChannelLayer | Promise<ChannelLayer>;

/** Creates a fresh layer with the given options (merged over the factory's own settings). */
export type ChannelLayerFactoryWithOptions = (options: ChannelLayerOptions) => ChannelLayer | Promise<ChannelLayer>;

/** Options of {@link runChannelLayerConformance}. */
export interface ChannelLayerConformanceOptions {
  /**
   * Tests this layer does not pass, by exact test name (see {@link CHANNEL_LAYER_CONFORMANCE_TESTS}),
   * each group with the reason it is skipped. An unknown name throws, so a renamed test cannot
   * be skipped silently.
   */
  skip?: Array<{ reason: string; tests: string[] }>;
  /**
   * Makes a layer with small `expiryMs` / `groupExpiryMs` / `capacity` for the expiry and option
   * tests. Without it those tests are skipped (with that reason).
   */
  factoryWithOptions?: ChannelLayerFactoryWithOptions;
  /**
   * Opens another layer that shares `layer`'s groups and channels, as a layer in another process
   * would (Redis: the same server and key prefix), for the cross-process tests (a `groupAdd` of
   * another process's channel, `flush` across processes, `receive` on another process's channel).
   * Without it a layer with `capabilities.crossProcess` skips them (with that reason); a layer
   * without runs them against itself.
   */
  peerFactory?: ChannelLayerPeerFactory;
}

/** Opens another layer sharing `layer`'s state, as another process would. */
export type ChannelLayerPeerFactory = (layer: ChannelLayer) => ChannelLayer | Promise<ChannelLayer>;

const CASES: readonly ConformanceCase[] = [...MESSAGE_CASES, ...GROUP_CASES, ...LIFECYCLE_CASES, ...PARITY_CASES];

/** Names of every conformance test, for {@link ChannelLayerConformanceOptions.skip}. */
export const CHANNEL_LAYER_CONFORMANCE_TESTS: readonly string[] = Object.freeze(CASES.map((c) => c.name));

/**
 * Registers the channel-layer conformance tests with `node:test`: one
 * `describe("channel layer conformance: <name>")`, one `it` per behaviour of
 * `docs/channel-layer-spec.md`. Each test gets a fresh layer from `factory` and flushes
 * (when `capabilities.flush`) and closes it afterwards.
 *
 * @param name - shown in the suite title, e.g. `'redis'`.
 * @param factory - makes a fresh layer; may be async (connect first).
 * @param options - `skip`: tests this layer does not pass, with the reason;
 *   `factoryWithOptions`: makes a layer with given options, for the expiry and option tests
 *   (skipped without it); `peerFactory`: opens a second layer on the same state, for the
 *   cross-process tests (skipped without it when `capabilities.crossProcess`).
 * @throws Error at registration when `skip` names a test that does not exist.
 *
 * @example
 * ```ts
 * runChannelLayerConformance('redis', () => new RedisChannelLayer({ url, prefix: unique() }), {
 *   factoryWithOptions: (o) => new RedisChannelLayer({ url, prefix: unique(), ...o }),
 *   skip: [{ reason: 'Redis keys expire with 1 s precision', tests: ['a queued message expires after expiryMs'] }],
 * });
 * ```
 */
export function runChannelLayerConformance(
  name: string,
  factory: ChannelLayerFactory,
  options: ChannelLayerConformanceOptions = {},
): void {
  const skipReasons = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) {
    for (const test of tests) {
      if (!CHANNEL_LAYER_CONFORMANCE_TESTS.includes(test)) {
        throw new Error(`runChannelLayerConformance(${JSON.stringify(name)}): skip names an unknown test ${JSON.stringify(test)}; the tests are listed in CHANNEL_LAYER_CONFORMANCE_TESTS`);
      }
      skipReasons.set(test, reason);
    }
  }
  const { factoryWithOptions, peerFactory } = options;

  describe(`channel layer conformance: ${name}`, () => {
    for (const testCase of CASES) {
      const skip =
        skipReasons.get(testCase.name) ??
        (testCase.needsOptions && factoryWithOptions === undefined ? 'needs options.factoryWithOptions to set small expiries and limits' : undefined);
      if (skip !== undefined) {
        it(testCase.name, { skip }, () => {});
        continue;
      }
      it(testCase.name, async (t) => {
        const opened: ChannelLayer[] = [];
        let failure: unknown;
        try {
          const layer = await factory();
          opened.push(layer);
          await testCase.run({
            layer,
            async withOptions(layerOptions) {
              if (factoryWithOptions === undefined) throw new Error('factoryWithOptions is not set');
              const extra = await factoryWithOptions(layerOptions);
              opened.push(extra);
              return extra;
            },
            async peer() {
              if (!layer.capabilities.crossProcess) return layer;
              if (peerFactory === undefined) throw new SkipTest('needs options.peerFactory to open a second process on the same layer');
              const other = await peerFactory(layer);
              opened.push(other);
              return other;
            },
            skip: (reason) => t.skip(reason),
          });
        } catch (err) {
          if (err instanceof SkipTest) t.skip(err.message);
          else failure = err;
        }
        for (const layer of opened) {
          try {
            await dispose(layer);
          } catch (err) {
            failure ??= err;
          }
        }
        if (failure !== undefined) throw failure;
      });
    }
  });
}

/** Thrown by `peer()` to skip the rest of a test that needs a peer the caller cannot open. */
class SkipTest extends Error {}

/** Flushes (when supported) and closes a layer; a layer the test already closed is fine. */
async function dispose(layer: ChannelLayer): Promise<void> {
  try {
    if (layer.capabilities.flush) await layer.flush();
    await layer.close();
  } catch (err) {
    if (!(err instanceof LayerClosedError)) throw err;
    await layer.close().catch((closeErr: unknown) => {
      if (!(closeErr instanceof LayerClosedError)) throw closeErr;
    });
  }
}
