package faultproxy

import "testing"

func TestClassify(t *testing.T) {
	for path, want := range map[string]Kind{
		"/v2/":                                  Ping,
		"/v2":                                   Ping,
		"/token":                                Token,
		"/v2/library/nginx/manifests/1":         Manifest,
		"/v2/a/b/blobs/sha256:00":               Blob,
		"/v2/a/blobs/uploads/":                  Other,
		"/v2/a/tags/list":                       Other,
		"/actions/checkout.git/info/refs":       Git,
		"/actions/checkout.git/git-upload-pack": Git,
	} {
		if got := Classify(path); got != want {
			t.Errorf("Classify(%q) = %s, want %s", path, got, want)
		}
	}
}
