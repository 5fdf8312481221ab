/**
 * What the server reports about each call: one log line (text or JSON) and,
 * through `@opentelemetry/api`, a span and a duration metric with the
 * OpenTelemetry `rpc.*` attributes. Deno's built-in OpenTelemetry
 * (`OTEL_DENO=true`, exporters set by the standard `OTEL_*` variables)
 * exports them; without it the API's no-op implementations cost next to
 * nothing.
 *
 * @module
 */

import { metrics, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Code, codeName } from "../core/rpc_error.ts";
import type { CallObserver } from "../grpc/observe_calls.ts";

/**
 * Log levels, least severe first; `off` logs nothing. Each call is logged
 * at `info` (or higher when it failed on the server's side); start-up and
 * shutdown at `notice`, which is the default threshold.
 */
export const LOG_LEVELS = ["debug", "info", "notice", "warn", "error", "off"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
/** How log lines are written. */
export type LogFormat = "text" | "json";

/** Where log lines go, and which. */
export interface LoggerOptions {
  /**
   * Lines below this level are dropped.
   * @default {"notice"}
   */
  level?: LogLevel;
  /**
   * `text` for people, `json` (one object a line) for log collectors.
   * @default {"text"}
   */
  format?: LogFormat;
  /**
   * Writes one line.
   * @default {console.error}
   */
  write?: (line: string) => void;
  /**
   * The clock for timestamps.
   * @default {() => new Date()}
   */
  now?: () => Date;
  /** Fields written on every line, before the line's own (e.g. `{ worker: 2 }`). */
  fields?: Record<string, unknown>;
}

/** A structured logger. */
export interface Logger {
  /** Whether a line at this level would be written. */
  enabled(level: LogLevel): boolean;
  /** Writes a message with fields, if the level is enabled. */
  log(level: Exclude<LogLevel, "off">, message: string, fields?: Record<string, unknown>): void;
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./telemetry.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const log = createLogger({
 *   level: "info",
 *   format: "json",
 *   write: (line) => lines.push(line),
 *   now: () => new Date(0),
 * });
 * log.log("info", "hello", { port: 50051 });
 * log.log("debug", "dropped");
 * assert.deepEqual(lines.map((l) => JSON.parse(l)), [
 *   { time: "1970-01-01T00:00:00.000Z", level: "info", msg: "hello", port: 50051 },
 * ]);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "notice");
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? (() => new Date());
  const json = options.format === "json";
  const common = options.fields ?? {};
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold && level !== "off";
  return {
    enabled,
    log(level, message, own = {}) {
      if (!enabled(level)) return;
      const fields = { ...common, ...own };
      const time = now().toISOString();
      if (json) {
        write(JSON.stringify({ time, level, msg: message, ...fields }));
      } else {
        const rest = Object.entries(fields).map(([k, v]) =>
          `${k}=${typeof v === "string" && !/\s|"/.test(v) ? v : JSON.stringify(v)}`
        );
        write([time, level.toUpperCase().padEnd(6), message, ...rest].join(" "));
      }
    },
  };
}

/** How bad a status is for the operator: server faults are errors, overload is a warning. */
export function levelForStatus(code: number): Exclude<LogLevel, "off"> {
  switch (code) {
    case Code.INTERNAL:
    case Code.UNKNOWN:
    case Code.DATA_LOSS:
      return "error";
    case Code.RESOURCE_EXHAUSTED:
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      return "warn";
    default:
      return "info";
  }
}

/** Statuses that mark a server span as failed (OpenTelemetry's gRPC conventions). */
const SERVER_SPAN_ERRORS: ReadonlySet<number> = new Set([
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.UNIMPLEMENTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);

/**
 * Creates the observer the server's interceptor reports to.
 *
 * @example
 * ```ts
 * import { createCallObserver, createLogger } from "./telemetry.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const observer = createCallObserver(
 *   createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
 * );
 * observer.start("/routeguide.RouteGuide/GetFeature", "127.0.0.1:5000").end(0);
 * const line = JSON.parse(lines[0]);
 * assert.equal(line.method, "routeguide.RouteGuide/GetFeature");
 * assert.equal(line.status, "OK");
 * ```
 */
export function createCallObserver(logger: Logger): CallObserver {
  const tracer = trace.getTracer("routeguide");
  const duration = metrics.getMeter("routeguide").createHistogram("rpc.server.duration", {
    description: "Duration of RouteGuide calls as the server saw them",
    unit: "ms",
  });
  return {
    start(path, peer) {
      const started = performance.now();
      const [service = "", method = ""] = path.replace(/^\//, "").split("/");
      const attributes = { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method };
      const span: Span = tracer.startSpan(`${service}/${method}`, {
        kind: SpanKind.SERVER,
        attributes: { ...attributes, "network.peer.address": peer },
      });
      let ended = false;
      // Plain gRPC unless the web bridge said otherwise.
      let carried = { protocol: "grpc", codec: "proto", http: "2" };
      return {
        protocol(label) {
          const match = /^(\S+)\+(\S+) HTTP\/(\S+)$/.exec(label);
          if (match === null) return;
          carried = { protocol: match[1], codec: match[2], http: match[3] };
          span.setAttribute("rpc.web.protocol", label);
        },
        end(code, details) {
          if (ended) return;
          ended = true;
          const ms = performance.now() - started;
          span.setAttribute("rpc.grpc.status_code", code);
          if (SERVER_SPAN_ERRORS.has(code)) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: details });
          }
          span.end();
          duration.record(ms, { ...attributes, "rpc.grpc.status_code": code });
          const level = levelForStatus(code);
          if (logger.enabled(level)) {
            const fields: Record<string, unknown> = {
              method: `${service}/${method}`,
              peer,
              status: codeName(code),
              duration_ms: Math.round(ms * 1000) / 1000,
              ...carried,
            };
            if (code !== Code.OK && details) fields.details = details;
            logger.log(level, "call", fields);
          }
        },
      };
    },
  };
}
