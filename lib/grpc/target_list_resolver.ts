/**
 * A grpc-js channel over a target list (`HOST:PORT,HOST:PORT`, see
 * `target_list.ts`): a name resolver that runs grpc-js's own DNS resolver
 * for each entry and joins their addresses, and a load-balancing policy that
 * spreads calls round robin over every address while checking each server's
 * TLS certificate against the name of the entry that gave its address.
 *
 * grpc-js has no target for several host names: `ipv4:`/`ipv6:` take IP
 * literals of one family only, and `dns:` takes one name. Using its DNS
 * resolver per entry keeps its behaviour: a name is looked up again when a
 * connection fails (at most every 30 s), and an IP literal is used as it is.
 * Only the client side of grpc-js is touched; the registrations below go
 * into grpc-js's own registries (no state of this module's).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import type { ChannelOptions } from "@grpc/grpc-js";
import { formatHostPort, type HostPort, parseTargetList } from "./target_list.ts";

const { experimental } = grpc;
type Endpoint = grpc.experimental.Endpoint;
type StatusOr<T> = grpc.experimental.StatusOr<T>;

/** The URI scheme of a target list: `routeguide-hosts:///h1:p1,h2:p2`. */
const SCHEME = "routeguide-hosts";

/** The name of the load-balancing policy in a service config. */
export const TARGET_LIST_POLICY = "routeguide_target_list";

/**
 * Resolver attribute: address (`host:port`) → the entry's host name. The
 * prefix keeps grpc-js from copying it into subchannel options.
 */
const NAMES = `${experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX}.routeguide_target_names`;

/** Resolves every entry with grpc-js's `dns:` resolver and reports the union. */
class TargetListResolver implements grpc.experimental.Resolver {
  private readonly entries: HostPort[];
  private readonly results: (StatusOr<Endpoint[]> | undefined)[];
  private readonly children: grpc.experimental.Resolver[];

  constructor(
    target: grpc.experimental.GrpcUri,
    private readonly listener: grpc.experimental.ResolverListener,
    options: ChannelOptions,
  ) {
    this.entries = parseTargetList(target.path);
    this.results = this.entries.map(() => undefined);
    // Our service config stays in force: no TXT lookup per name.
    const childOptions = { ...options, "grpc.service_config_disable_resolution": 1 };
    this.children = this.entries.map((entry, i) =>
      experimental.createResolver(
        { scheme: "dns", path: formatHostPort(entry) },
        (endpoints) => {
          // A lookup that fails after one that worked keeps the addresses
          // it had, as grpc-js does for a single name.
          if (endpoints.ok || !this.results[i]?.ok) this.results[i] = endpoints;
          return this.report();
        },
        childOptions,
      )
    );
  }

  /** Reports the addresses of every entry resolved so far, or why none could be. */
  private report(): boolean {
    const names = new Map<string, string>();
    const endpoints: Endpoint[] = [];
    const failed: string[] = [];
    this.results.forEach((result, i) => {
      if (result === undefined) return;
      if (!result.ok) {
        failed.push(formatHostPort(this.entries[i]));
        return;
      }
      for (const endpoint of result.value) {
        const key = endpoint.addresses.map(experimental.subchannelAddressToString).join(",");
        if (names.has(key)) continue;
        names.set(key, this.entries[i].host);
        endpoints.push(endpoint);
      }
    });
    if (endpoints.length > 0) {
      return this.listener(experimental.statusOrFromValue(endpoints), { [NAMES]: names }, null, "");
    }
    // Nothing to connect to yet: wait for the entries still resolving.
    if (this.results.includes(undefined)) return true;
    this.listener(
      experimental.statusOrFromError({
        code: grpc.status.UNAVAILABLE,
        details: `Name resolution failed for every server of the list: ${failed.join(", ")}`,
      }),
      {},
      null,
      "",
    );
    return false;
  }

  updateResolution(): void {
    for (const child of this.children) child.updateResolution();
  }

  destroy(): void {
    for (const child of this.children) child.destroy();
  }

  /** The first entry: the `:authority` of every call. */
  static getDefaultAuthority(target: grpc.experimental.GrpcUri): string {
    return formatHostPort(parseTargetList(target.path)[0]);
  }
}

/** The config of {@linkcode TargetListBalancer}: it has no settings. */
class TargetListConfig implements grpc.experimental.TypedLoadBalancingConfig {
  getLoadBalancerName(): string {
    return TARGET_LIST_POLICY;
  }
  toJsonObject(): object {
    return { [TARGET_LIST_POLICY]: {} };
  }
  static createFromJson(): TargetListConfig {
    return new TargetListConfig();
  }
}

/**
 * grpc-js's `round_robin` over every address, with each connection's TLS
 * server name set to the host name of the entry its address came from
 * (grpc-js would otherwise check every server against the channel's one
 * authority, the first entry).
 */
class TargetListBalancer implements grpc.experimental.LoadBalancer {
  private names = new Map<string, string>();
  private readonly child: grpc.experimental.ChildLoadBalancerHandler;
  private readonly roundRobin = experimental.parseLoadBalancingConfig({ round_robin: {} });

  constructor(helper: grpc.experimental.ChannelControlHelper) {
    this.child = new experimental.ChildLoadBalancerHandler(
      experimental.createChildChannelControlHelper(helper, {
        createSubchannel: (address, args) => {
          const name = this.names.get(experimental.subchannelAddressToString(address));
          const named = name === undefined || args["grpc.ssl_target_name_override"] !== undefined
            ? args
            : { ...args, "grpc.ssl_target_name_override": name };
          return helper.createSubchannel(address, named);
        },
      }),
    );
  }

  updateAddressList(
    endpoints: StatusOr<Endpoint[]>,
    _config: grpc.experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    const names = (options as Record<string, unknown>)[NAMES];
    if (names instanceof Map) this.names = names;
    return this.child.updateAddressList(endpoints, this.roundRobin, options, resolutionNote);
  }

  exitIdle(): void {
    this.child.exitIdle();
  }

  resetBackoff(): void {
    this.child.resetBackoff();
  }

  destroy(): void {
    this.child.destroy();
  }

  getTypeName(): string {
    return TARGET_LIST_POLICY;
  }
}

/**
 * The grpc-js target for a list of servers, with the resolver and policy it
 * needs registered in grpc-js (idempotent). Use it with a service config
 * whose `loadBalancingConfig` is `[{ [TARGET_LIST_POLICY]: {} }]`. Throws
 * a `TypeError` naming a bad entry.
 */
export function targetListUri(target: string): string {
  const entries = parseTargetList(target);
  experimental.registerResolver(SCHEME, TargetListResolver);
  experimental.registerLoadBalancerType(TARGET_LIST_POLICY, TargetListBalancer, TargetListConfig);
  return `${SCHEME}:///${entries.map(formatHostPort).join(",")}`;
}
