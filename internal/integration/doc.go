// Package integration tests the places stet runs outside its own command
// line: the GitHub Action (action.yml), the pre-commit hooks
// (.pre-commit-hooks.yaml) and stet's own delivery files (Dockerfile,
// .stet.yaml). The tests read those files as their consumers do and run
// what they run against fixture repositories, with a stet binary built
// from this module. It has no code of its own beyond this comment.
package integration
