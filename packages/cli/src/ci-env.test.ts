import { describe, expect, it } from "vitest";
import { defaultActor, defaultCiRunUrl } from "./ci-env.ts";

describe("trigger metadata from the CI environment", () => {
  it("takes the actor from the CI, else the local user", () => {
    expect(defaultActor({ GITHUB_ACTOR: "octocat" })).toBe("octocat");
    expect(defaultActor({ GANTRY_ACTOR: "release-bot", GITHUB_ACTOR: "octocat" })).toBe(
      "release-bot",
    );
    expect(defaultActor({ GITLAB_USER_LOGIN: "jdoe" })).toBe("jdoe");
    expect(defaultActor({ BUILDKITE_BUILD_CREATOR_EMAIL: "a@b.c" })).toBe("a@b.c");
    expect(defaultActor({ BUILD_USER_ID: "jenkins-user" })).toBe("jenkins-user");
    expect(defaultActor({ GITHUB_ACTOR: "  " }, () => "me")).toBe("me");
  });

  it("builds the run URL that stays the same when a job is retried", () => {
    expect(
      defaultCiRunUrl({
        GITHUB_SERVER_URL: "https://github.com/",
        GITHUB_REPOSITORY: "acme/app",
        GITHUB_RUN_ID: "42",
        GITHUB_RUN_ATTEMPT: "3",
      }),
    ).toBe("https://github.com/acme/app/actions/runs/42");
    expect(
      defaultCiRunUrl({
        CI_PIPELINE_URL: "https://gitlab.com/acme/app/-/pipelines/7",
        CI_JOB_URL: "x",
      }),
    ).toBe("https://gitlab.com/acme/app/-/pipelines/7");
    expect(
      defaultCiRunUrl({ BUILDKITE_BUILD_URL: "https://buildkite.com/acme/app/builds/9" }),
    ).toBe("https://buildkite.com/acme/app/builds/9");
    expect(defaultCiRunUrl({ BUILD_URL: "https://ci.acme.dev/job/app/12/" })).toBe(
      "https://ci.acme.dev/job/app/12/",
    );
    expect(defaultCiRunUrl({ GITHUB_SERVER_URL: "https://github.com" })).toBeUndefined();
  });
});
