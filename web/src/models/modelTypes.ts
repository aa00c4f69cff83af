// The registry's shapes, from the generated OpenAPI types.
import type { components } from "../api/schema";

export type ModelSummary = components["schemas"]["ModelSummary"];
export type ModelDetail = components["schemas"]["ModelDetail"];
export type VersionSummary = components["schemas"]["api__routes__models__VersionSummary"];
export type VersionDetail = components["schemas"]["VersionDetail"];
export type ArtifactFile = components["schemas"]["ArtifactFile"];
