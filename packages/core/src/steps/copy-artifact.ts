import { ArtifactChecksumMismatch, ArtifactConflict, ArtifactNotFound } from "../errors.ts";
import type { ArtifactStore, Clock } from "../ports.ts";
import type { DeploymentState, PromotedArtifact } from "../state.ts";

export interface CopyArtifactDeps {
  readonly artifacts: ArtifactStore;
  readonly clock: Clock;
}

/**
 * Puts the exact requested bytes in the stage's artifact bucket: checks the source's SHA-256,
 * copies server-side with provenance in metadata and tags, and checks the copy's SHA-256.
 * A destination key that already holds the same bytes is reused; one that holds other bytes
 * is an {@link ArtifactConflict} (promoted artifacts are immutable).
 *
 * @example
 * ```ts
 * const artifact = await copyArtifact(state, { artifacts, clock: systemClock });
 * artifact.sha256 === state.request.artifact.sha256; // true
 * ```
 */
export async function copyArtifact(
  state: Pick<DeploymentState, "plan" | "request" | "execution" | "approval">,
  deps: CopyArtifactDeps,
): Promise<PromotedArtifact> {
  const { plan, request } = state;
  const sha256 = request.artifact.sha256;
  const from = plan.source;
  const to = plan.destination;

  const source = await deps.artifacts.head(from);
  if (!source) throw new ArtifactNotFound(`no artifact at s3://${from.bucket}/${from.key}`);
  if (source.sha256 !== sha256) {
    throw new ArtifactChecksumMismatch(
      `s3://${from.bucket}/${from.key} has SHA-256 ${source.sha256 ?? "(none recorded)"}, expected ${sha256}`,
    );
  }
  if (from.bucket === to.bucket && from.key === to.key) return promoted(source, sha256, false);

  const existing = await deps.artifacts.head(to);
  if (existing) {
    if (existing.sha256 !== sha256) {
      throw new ArtifactConflict(
        `s3://${to.bucket}/${to.key} already holds other bytes (SHA-256 ${existing.sha256 ?? "unknown"}); ` +
          "promoted artifacts are never overwritten",
      );
    }
    return promoted(existing, sha256, false);
  }

  const provenance = {
    "gantry-service": plan.service,
    "gantry-version": request.version,
    "gantry-sha256": sha256,
    "gantry-execution": state.execution.name,
    "gantry-approved-by": state.approval?.by ?? "none",
    "gantry-promoted-at": new Date(deps.clock.now()).toISOString(),
  };
  // The object just verified, pinned by its ETag and version: nothing swapped in since is copied.
  const copy = await deps.artifacts.copy(source, to, {
    sha256,
    metadata: provenance,
    tags: { "gantry-service": plan.service, "gantry-version": request.version },
  });
  if (copy.sha256 !== sha256) {
    throw new ArtifactChecksumMismatch(
      `the copy at s3://${to.bucket}/${to.key} has SHA-256 ${copy.sha256 ?? "unknown"}, expected ${sha256}`,
    );
  }
  return promoted(copy, sha256, true);
}

function promoted(
  object: { bucket: string; key: string; versionId?: string; size: number },
  sha256: string,
  copied: boolean,
): PromotedArtifact {
  return {
    bucket: object.bucket,
    key: object.key,
    ...(object.versionId ? { versionId: object.versionId } : {}),
    sha256,
    size: object.size,
    copied,
  };
}
