// The deployments API's calls (typed by the OpenAPI document), each answering its data or throwing the API's
// message.
import { api, errorMessage, unwrap } from "../api/client";
import type { DeploymentCreate, DeploymentUpdate } from "./deploymentTypes";

const path = (name: string) => ({ params: { path: { name } } });

/** A call answering 204 (no body): throw the API's message if it failed. */
function done(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) throw new Error(errorMessage(result.error ?? `HTTP ${result.response.status}`));
}

// The page polls a deployment while it is open: once it is being deleted, no read of it starts (until one of that
// name is created again), and the delete waits for those under way, so none of them meets a 404.
const deleted = new Set<string>();
const reading = new Map<string, Set<Promise<unknown>>>();

function read<T>(name: string, call: () => Promise<T>): Promise<T> {
  if (deleted.has(name)) return Promise.reject(new Error(`deployment ${name} is being deleted`));
  const pending = call();
  const all = reading.get(name) ?? new Set<Promise<unknown>>();
  reading.set(name, all.add(pending));
  void pending.catch(() => undefined).finally(() => all.delete(pending));
  return pending;
}

export const deploymentsApi = {
  list: async () => unwrap(await api.GET("/api/deployments")),
  get: (name: string) => read(name, async () => unwrap(await api.GET("/api/deployments/{name}", path(name)))),
  create: async (body: DeploymentCreate) => {
    const created = unwrap(await api.POST("/api/deployments", { body }));
    deleted.delete(created.name);
    return created;
  },
  update: async (name: string, body: DeploymentUpdate) =>
    unwrap(await api.PATCH("/api/deployments/{name}", { ...path(name), body })),
  remove: async (name: string) => {
    deleted.add(name);
    await Promise.allSettled(reading.get(name) ?? []);
    try {
      done(await api.DELETE("/api/deployments/{name}", path(name)));
    } catch (e) {
      deleted.delete(name);
      throw e;
    }
  },
  stats: (name: string) => read(name, async () => unwrap(await api.GET("/api/deployments/{name}/stats", path(name)))),
  tokens: (name: string) => read(name, async () => unwrap(await api.GET("/api/deployments/{name}/tokens", path(name)))),
  createToken: async (name: string, tokenName: string) =>
    unwrap(await api.POST("/api/deployments/{name}/tokens", { ...path(name), body: { name: tokenName } })),
  revokeToken: async (name: string, id: string) =>
    done(await api.DELETE("/api/deployments/{name}/tokens/{token_id}", { params: { path: { name, token_id: id } } })),
  monitoring: (name: string) =>
    read(name, async () => unwrap(await api.GET("/api/deployments/{name}/monitoring", path(name)))),
  runMonitoring: async (name: string) =>
    unwrap(await api.POST("/api/deployments/{name}/monitoring/run", path(name))),
  /** The newest logged prediction, if any (its input row makes the curl example real). */
  latestPrediction: (name: string) => read(name, async () => unwrap(await api.GET("/api/deployments/{name}/predictions", {
    params: { path: { name }, query: { limit: 1 } },
  })).items[0] ?? null),
};
