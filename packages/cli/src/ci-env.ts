import { userInfo } from "node:os";

/**
 * What a CI system says about the run, for the deployment's trigger metadata. The values must
 * stay the same when a job is retried, so that a retried `gantry deploy` sends the same input
 * and finds its first execution (hence the run's URL, not the job attempt's).
 */
type Env = Readonly<Record<string, string | undefined>>;

function first(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * Who triggered the deployment: GitHub Actions' GITHUB_ACTOR (the same on a re-run), GitLab's
 * GITLAB_USER_LOGIN, Buildkite's BUILDKITE_BUILD_CREATOR_EMAIL, Jenkins' BUILD_USER_ID (the
 * build-user-vars plugin), GANTRY_ACTOR, then the local user (`whoami`).
 *
 * @example
 * ```ts
 * defaultActor({ GITHUB_ACTOR: "octocat" }); // "octocat"
 * ```
 */
export function defaultActor(env: Env, whoami: () => string = localUser): string {
  return (
    first(env, [
      "GANTRY_ACTOR",
      "GITHUB_ACTOR",
      "GITLAB_USER_LOGIN",
      "BUILDKITE_BUILD_CREATOR_EMAIL",
      "BUILD_USER_ID",
    ]) ?? whoami()
  );
}

/**
 * The CI run's URL, when the environment says: GitHub Actions
 * (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID`), GitLab
 * (CI_PIPELINE_URL), Buildkite (BUILDKITE_BUILD_URL), Jenkins (BUILD_URL).
 *
 * @example
 * ```ts
 * defaultCiRunUrl({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/app", GITHUB_RUN_ID: "42" });
 * // "https://github.com/acme/app/actions/runs/42"
 * ```
 */
export function defaultCiRunUrl(env: Env): string | undefined {
  const server = first(env, ["GITHUB_SERVER_URL"]);
  const repository = first(env, ["GITHUB_REPOSITORY"]);
  const run = first(env, ["GITHUB_RUN_ID"]);
  if (server && repository && run) {
    return `${server.replace(/\/+$/, "")}/${repository}/actions/runs/${run}`;
  }
  return first(env, ["CI_PIPELINE_URL", "BUILDKITE_BUILD_URL", "BUILD_URL"]);
}

function localUser(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}
