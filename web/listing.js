/**
 * ListFeatures for a page that must stay responsive at a million features:
 * one listing at a time (a new one aborts the previous, so the server's list
 * slots are never piled up), every feature counted but only a bounded,
 * uniform sample kept (reservoir sampling), drawing batched into animation
 * frames, and the reading loop yielding to the browser every few
 * milliseconds even when the network has answers queued.
 *
 * @module
 */

/** How many features a listing keeps for the map at most. */
export const SAMPLE_LIMIT = 2000;
/** The reading loop gives the browser a turn after this many milliseconds of work. */
const SLICE_MS = 12;

/** The whole world as a Rectangle, E7. */
export const WORLD_RECTANGLE = {
  lo: { latitude: -900000000, longitude: -1800000000 },
  hi: { latitude: 900000000, longitude: 1800000000 },
};

/** Resolves on the next macrotask, so rendering and input get their turn. */
function yieldToBrowser() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Reservoir sampling (Vitter's algorithm R): the slot the `seen`-th item
 * (1-based) takes in a sample of `limit`, or -1 to drop it. Each item ends up
 * in the sample with the same probability.
 */
export function reservoirSlot(seen, limit, random = Math.random) {
  if (seen <= limit) return seen - 1;
  const j = Math.floor(random() * seen);
  return j < limit ? j : -1;
}

/**
 * Runs listings one at a time.
 * @param {{stream: Function}} client a Connect client (`connect.js`)
 * @param {{limit?: number}} [options] `limit` (default SAMPLE_LIMIT): features kept
 */
export function createLister(client, options = {}) {
  const limit = options.limit ?? SAMPLE_LIMIT;
  let current;

  /**
   * Lists `rectangle`; `onFrame({count, changed, done})` runs at most once
   * per animation frame with the sample slots that changed since the last
   * frame (a Map slot → feature); `onEnd({count, error?, aborted})` once.
   */
  async function list(rectangle, handlers) {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    let count = 0;
    let changed = new Map();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = changed;
      changed = new Map();
      handlers.onFrame({ count, changed: batch });
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    let error;
    try {
      let sliceStart = performance.now();
      for await (
        const feature of client.stream("ListFeatures", [rectangle], {
          signal: controller.signal,
        })
      ) {
        count++;
        const slot = reservoirSlot(count, limit);
        if (slot >= 0) changed.set(slot, feature);
        schedule();
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToBrowser();
          if (controller.signal.aborted) break;
          sliceStart = performance.now();
        }
      }
    } catch (caught) {
      if (!controller.signal.aborted) error = caught;
    }
    if (frame !== 0) cancelAnimationFrame(frame);
    const aborted = controller.signal.aborted;
    if (!aborted) flush();
    if (current === controller) current = undefined;
    handlers.onEnd({ count, error, aborted });
  }

  return {
    list,
    /** Stops the listing in progress, if any. */
    abort() {
      current?.abort();
    },
  };
}
