/**
 * A small event emitter for the objects made per request: the part of
 * `node:events`' `EventEmitter` that request streams are used through
 * (`on`, `once`, `off`, `emit`, `listenerCount`), at a fraction of its cost
 * per object (no `'newListener'` events, no bound wrapper per `once`, no
 * listener-count warnings). As with `EventEmitter`, an `'error'` emitted
 * with no listener throws, and listeners added or removed while an event is
 * being emitted do not change who hears that emission.
 *
 * Depends on nothing.
 *
 * @module
 */

/** An event listener. */
// deno-lint-ignore no-explicit-any
export type Listener = (...args: any[]) => void;

/** A `once` listener's wrapper, which remembers what it wraps so `off` can find it. */
interface OnceWrapper extends Listener {
  listener: Listener;
}

/** Listeners for one event: one function, or an array of them when there are several. */
type Listeners = Listener | Listener[];

/** An event emitter light enough to make one per request. */
export class LightEmitter {
  #events?: Map<string | symbol, Listeners>;

  /** Adds a listener for `event`. */
  on(event: string | symbol, listener: Listener): this {
    const events = this.#events ??= new Map();
    const current = events.get(event);
    if (current === undefined) events.set(event, listener);
    else if (typeof current === "function") events.set(event, [current, listener]);
    else current.push(listener);
    return this;
  }

  /** The same as {@linkcode on}. */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds a listener called at most once. */
  once(event: string | symbol, listener: Listener): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, wrapper);
      listener.apply(this, args);
    }) as OnceWrapper;
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  /** Removes a listener (added with `on` or `once`); the last one added first. */
  off(event: string | symbol, listener: Listener): this {
    const events = this.#events;
    const current = events?.get(event);
    if (current === undefined) return this;
    const matches = (l: Listener) => l === listener || (l as OnceWrapper).listener === listener;
    if (typeof current === "function") {
      if (matches(current)) events!.delete(event);
      return this;
    }
    for (let i = current.length - 1; i >= 0; i--) {
      if (!matches(current[i])) continue;
      // A new array: an emit in progress keeps calling the listeners it started with.
      const rest = current.slice(0, i).concat(current.slice(i + 1));
      events!.set(event, rest.length === 1 ? rest[0] : rest);
      break;
    }
    return this;
  }

  /** The same as {@linkcode off}. */
  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: string | symbol): this {
    if (event === undefined) this.#events = undefined;
    else this.#events?.delete(event);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: string | symbol): number {
    const current = this.#events?.get(event);
    return current === undefined ? 0 : typeof current === "function" ? 1 : current.length;
  }

  /** Calls the listeners of `event` in order; false when it has none. An unheard `'error'` throws. */
  emit(event: string | symbol, ...args: unknown[]): boolean {
    const current = this.#events?.get(event);
    if (current === undefined) {
      if (event === "error") throw args[0] instanceof Error ? args[0] : new Error(String(args[0]));
      return false;
    }
    if (typeof current === "function") {
      current.apply(this, args);
    } else {
      // `off` replaces the array and `on` appends to it: the first `n` are the ones to call.
      for (let i = 0, n = current.length; i < n; i++) current[i].apply(this, args);
    }
    return true;
  }
}
