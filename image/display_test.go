package image_test

import (
	"testing"

	"github.com/stet-dev/stet/image"
)

func TestShortDigest(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256:0123456789ab"},
		{"sha512:0123456789abcdef", "sha512:0123456789ab"},
		{"sha256:0123456789ab", "sha256:0123456789ab"},
		{"0123456789abcdef0123", "0123456789abcdef0123"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := image.ShortDigest(tt.in); got != tt.want {
				t.Errorf("ShortDigest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStepLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"/bin/sh -c #(nop)  CMD [\"nginx\"]", 70, `CMD ["nginx"]`},
		{"/bin/sh -c apk add\n\t--no-cache   curl", 70, "apk add --no-cache curl"},
		{"RUN /bin/sh -c make # buildkit", 70, "RUN /bin/sh -c make # buildkit"},
		{"COPY file.txt /srv/ # buildkit", 10, "COPY file…"},
		{"ADD ünïcödé /x", 8, "ADD ünï…"},
		{"", 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := image.StepLine(tt.in, tt.n); got != tt.want {
				t.Errorf("StepLine(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
