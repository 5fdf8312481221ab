/**
 * The signals a server process answers, listened for before it writes a
 * single line.
 *
 * Why first: a signal that arrives before its listener is bound takes the
 * default action, and for SIGHUP that ends the process. A parent that
 * signals as soon as it reads the ready line wins that race often: on the
 * pinned Deno, binding a signal's first listener takes long enough that a
 * child printing "ready" and then adding its SIGHUP listener was killed by
 * a SIGHUP sent on reading the line in 21–23 of 40 tries, against 0 of 40
 * with the listener bound first (measured; see README "Signals").
 *
 * @module
 */

/** The signals a server process answers. */
export interface ProcessSignals {
  /** Settles with the first SIGINT or SIGTERM. */
  readonly stop: Promise<Deno.Signal>;
  /**
   * Sets what SIGHUP does (reload). SIGHUPs that came before there was
   * anything to reload are answered once, at once.
   */
  onHangup(handler: () => void): void;
}

/**
 * Binds SIGINT, SIGTERM and SIGHUP now. Call it before printing anything a
 * parent may act on.
 */
export function listenForSignals(): ProcessSignals {
  let hangup: (() => void) | undefined;
  let missedHangup = false;
  Deno.addSignalListener("SIGHUP", () => {
    if (hangup === undefined) missedHangup = true;
    else hangup();
  });
  const stop = new Promise<Deno.Signal>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(name, () => resolve(name));
    }
  });
  return {
    stop,
    onHangup(handler) {
      hangup = handler;
      if (missedHangup) {
        missedHangup = false;
        handler();
      }
    },
  };
}
