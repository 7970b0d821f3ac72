package actions

import "testing"

func TestVersionComment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# v4.2.2", "v4.2.2"},
		{"#v4", "v4"},
		{"v4.1.7", "v4.1.7"},
		{"  #   v1.0.0-rc.1  ", "v1.0.0-rc.1"},
		{"# 1.2.3", "1.2.3"},
		{"# tag=v4.2.2", "v4.2.2"},
		{"# renovate: tag=v3.1.0", "v3.1.0"},
		{"# pin @v4.2.2", "v4.2.2"},
		{"# pin@v2", "v2"},
		{"# @v5", "v5"},
		{"# version: v6.0.0", "v6.0.0"},
		{"# ratchet:actions/checkout@v4", "v4"},
		{"# ratchet:exclude", ""},
		{"# main", "main"},
		{"# release/v1", "release/v1"},
		{"# v4.2.2 (2024-10-23)", "v4.2.2"},
		{"# v4.2.2, pinned by hand", "v4.2.2"},
		{"# v4.2.2.", "v4.2.2"},
		{"# (v4)", "v4"},
		{"# codeql-bundle-v2.20.1", "codeql-bundle-v2.20.1"},
		{"## v3", "v3"},
		{"# do not upgrade", ""},
		{"# TODO bump to v5", ""},
		{"# x-release-please-version", "x-release-please-version"},
		{"# refs..heads", ""},
		{"#", ""},
		{"", ""},
		{"# tag=", ""},
		{"# ratchet:actions/checkout", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := VersionComment(tt.in); got != tt.want {
				t.Errorf("VersionComment(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzVersionComment(f *testing.F) {
	for _, s := range []string{"# v4.2.2", "# ratchet:a/b@v1", "# pin @x", "# renovate: tag=v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := VersionComment(s)
		if v != "" && !versionRE.MatchString(v) && !refNameRE.MatchString(v) {
			t.Errorf("VersionComment(%q) = %q, neither a version nor a ref name", s, v)
		}
	})
}
