package release

import "strings"

// CIVariables are the environment variables that identify a CI run, kept
// in a Creator when present: GitHub Actions, GitLab CI, Jenkins, Buildkite,
// CircleCI, Azure Pipelines and Tekton-style generic ones.
var CIVariables = []string{
	"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_RUN_NUMBER", "GITHUB_REPOSITORY",
	"GITHUB_SERVER_URL", "GITHUB_WORKFLOW", "GITHUB_JOB", "GITHUB_ACTOR", "GITHUB_SHA", "GITHUB_REF",
	"CI_PIPELINE_ID", "CI_PIPELINE_URL", "CI_JOB_ID", "CI_JOB_URL", "CI_PROJECT_PATH",
	"CI_COMMIT_SHA", "CI_SERVER_URL", "GITLAB_USER_LOGIN",
	"BUILD_URL", "BUILD_NUMBER", "JOB_NAME",
	"BUILDKITE_BUILD_URL", "BUILDKITE_BUILD_NUMBER",
	"CIRCLE_BUILD_URL", "CIRCLE_WORKFLOW_ID",
	"BUILD_BUILDID", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
}

// CreatorFromEnv builds a Creator from environment variables (getenv is
// os.Getenv in the command) and the host name: the user from USER,
// USERNAME or the CI's actor variables, and the CI variables that are set.
func CreatorFromEnv(getenv func(string) string, host string) Creator {
	c := Creator{Host: strings.TrimSpace(host)}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			c.User = v
			break
		}
	}
	for _, k := range CIVariables {
		if v := getenv(k); v != "" {
			if c.CI == nil {
				c.CI = map[string]string{}
			}
			c.CI[k] = v
		}
	}
	return c
}
