/**
 * The web protocols' place in the server: a handler that loads `lib/web/`
 * on the first web request (so start-up pays nothing for it), reads the
 * descriptor set, and serves HTTP exchanges from either transport, bridging
 * RPCs into the grpc-js server.
 *
 * @module
 */

import type { Http2Headers, Http2ServerStream, RequestHandler } from "../http2/server.ts";
import type { HttpExchange } from "../web/exchange.ts";
import type { Logger } from "./telemetry.ts";

/** The descriptor set of every service served (RouteGuide, health, reflection), built by `deno task gen`. */
const DESCRIPTOR_SET = new URL("../../protos/route_guide.binpb", import.meta.url);

/** The page's folder. */
const PAGE_ROOT = new URL("../../web/", import.meta.url);

/** Options for {@linkcode createLazyWebHandler}. */
export interface LazyWebHandlerOptions {
  /** Hands a bridged call to grpc-js. */
  dispatch: (stream: object, headers: Http2Headers) => void;
  /** Whether the server reports SERVING (for `/healthz`). */
  serving: () => boolean;
  /** Largest request message, after decompression. */
  maxMessageBytes?: number;
  /**
   * Origins allowed to call from pages elsewhere; `*` for any.
   * @default {[]}
   */
  corsOrigins?: readonly string[] | "*";
  /** Where a failure to load the web modules is logged. */
  logger: Logger;
  /**
   * Serve `/healthz` only (the health-only port): every other request gets 404.
   * @default {false}
   */
  healthOnly?: boolean;
}

/** A web handler for both transports. */
export interface LazyWebHandler {
  /** Serves an exchange (HTTP/1.x). */
  (exchange: HttpExchange): void;
  /** Serves an HTTP/2 request that is not plain gRPC (`Http2Server`'s `otherRequests`). */
  readonly http2: RequestHandler;
}

/** Where the web modules are. */
const WEB_FOLDER = new URL("../web/", import.meta.url);

/**
 * Imports a web module. The specifier is computed so that Deno leaves the
 * module out of the graph it reads and parses at start-up: a literal
 * `import("../web/handler.ts")` is loaded (not run) before the first line.
 */
function importWeb<T>(name: string): Promise<T> {
  return import(new URL(name, WEB_FOLDER).href);
}

/** Loads the web modules and builds the handler. */
async function load(options: LazyWebHandlerOptions) {
  const [{ createWebHandler }, { loadMethodTable }, { exchangeFromHttp2 }] = await Promise.all([
    importWeb<typeof import("../web/handler.ts")>("handler.ts"),
    importWeb<typeof import("../web/methods.ts")>("methods.ts"),
    importWeb<typeof import("../web/from_http2.ts")>("from_http2.ts"),
  ]);
  const methods = options.healthOnly
    ? { lookup: () => undefined }
    : loadMethodTable(await Deno.readFile(DESCRIPTOR_SET));
  const handler = createWebHandler({
    dispatch: options.dispatch,
    methods,
    maxMessageBytes: options.maxMessageBytes,
    corsOrigins: options.corsOrigins,
    staticRoot: options.healthOnly ? undefined : PAGE_ROOT,
    serving: options.serving,
    rpc: !options.healthOnly,
  });
  return { handler, exchangeFromHttp2 };
}

/** A web handler that loads `lib/web/` on its first request. */
export function createLazyWebHandler(options: LazyWebHandlerOptions): LazyWebHandler {
  let loading: ReturnType<typeof load> | undefined;
  const loaded = () => {
    loading ??= load(options).catch((error) => {
      options.logger.log("error", "cannot load the web protocols", {
        error: String(error?.stack ?? error),
      });
      loading = undefined;
      throw error;
    });
    return loading;
  };
  const serve = (exchange: HttpExchange) => {
    loaded().then(({ handler }) => handler(exchange), () => exchange.abort());
  };
  const http2: RequestHandler = (stream: Http2ServerStream, headers: Http2Headers) => {
    loaded().then(
      ({ handler, exchangeFromHttp2 }) => handler(exchangeFromHttp2(stream, headers)),
      () => stream.destroy(),
    );
  };
  return Object.assign(serve, { http2 });
}
