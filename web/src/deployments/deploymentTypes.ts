// The deployments API's shapes, from the generated OpenAPI types.
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type Deployment = Schemas["DeploymentPublic"];
export type DeploymentCreate = Schemas["DeploymentCreate"];
export type DeploymentUpdate = Schemas["DeploymentUpdate"];
export type DeploymentToken = Schemas["TokenPublic"];
export type NewToken = Schemas["TokenCreated"];
export type DeploymentStats = Schemas["Stats"];
export type FeatureDrift = Schemas["FeatureDrift"];
/** One monitoring run's figures; `note` says why something was not measured. */
export type MonitoringResult = Schemas["MonitoringResultPublic"];
export type DeploymentAlert = Schemas["AlertPublic"];
/** Results oldest first, alerts newest first. */
export type Monitoring = Schemas["Monitoring"];

/** What a deployment serves: a pinned version or a followed alias (exactly one). */
export type Target = { version: number; alias?: undefined } | { alias: string; version?: undefined };
